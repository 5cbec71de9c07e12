"""The inbox: every authenticated delivery, kept raw before it is acted on."""
