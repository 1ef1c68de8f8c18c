"""What other features hear about instrument results, so instruments need not know them."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the write's transaction, before its commit, once a SOWS response or a COWS
# observation was stored or changed (sender: the patient's Principal; `day`: the patient's
# local day the result describes). Check-ins re-judge the days it bears on and their alerts.
result_recorded = _signals.signal("instrument-result-recorded")
