"""What the bot owes Slack (thread posts), kept until delivered."""
