"""What other features hear about accounts, so accounts need not know them."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the deletion's transaction, before the account's rows go (sender: the User).
account_deleting = _signals.signal("account-deleting")
