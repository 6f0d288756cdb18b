"""The operator console: a Textual application on the read API and the control protocol."""
