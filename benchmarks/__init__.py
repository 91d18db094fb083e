"""armgit's benchmarks: a synthetic fleet generator and a suite that measures against peers."""
