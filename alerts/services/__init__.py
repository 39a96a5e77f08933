"""Writes of the early-warning app, one module per topic (as Zulip's zerver/actions/): import the function from
its topic, `from alerts.services.runs import alerts_run`. Each service runs in one transaction and writes its
own history.

- `runs`: evaluate the rules and reconcile the open alerts with them, tell who must be told, record the run;
  close at once the alerts of assignments whose condition ended.
- `delivery`: send the e-mail digests the runs prepared, each at most once; requeue stuck ones.
- `notifications`: a person's notifications read, their e-mail preferences.
- `support`: a province officer closes a report's request for support.
- `contacts`: a checked contacts import applied.
"""
