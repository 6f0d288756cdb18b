"""One module per subcommand group; each registers its parser and a thin handler."""
