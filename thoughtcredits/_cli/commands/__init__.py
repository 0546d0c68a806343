"""One module per ``thoughtcredits`` subcommand, and the listing stream they share."""
