"""What a workspace sets for itself: the language of the bot's posts and the currency of its deals' values."""
