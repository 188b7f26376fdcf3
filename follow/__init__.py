"""newsbot.follow: chats follow topics; new articles that match one become alerts.

``store`` keeps topics, sent alerts and the articles already looked at (the FollowStore protocol,
a SQLite file by default); ``matching`` scores a topic against new articles with the retriever;
``alerts`` joins the two after a rebuild. Knows no Telegram: the bot sends what it returns.
"""
