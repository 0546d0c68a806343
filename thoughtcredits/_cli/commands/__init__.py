"""One module per ``thoughtcredits`` subcommand, and what several share: the listing stream
(:mod:`.listing`) and the resumable export (:mod:`.exporting`)."""
