"""One ingestion path for every delivery, pushed or polled: store it raw, parse it once, start
or signal its workflow, record the outcome."""
