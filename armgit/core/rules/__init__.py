"""The rules of SPEC section 4: state rules at one commit (change rules come with enforcement)."""
