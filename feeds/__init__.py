"""newsbot.feeds: follow RSS and Atom feeds; each new item becomes an article file in the seeds folder.

`update_feeds(settings)` (or `await poll_feeds(settings)`) polls every feed in seeds/feeds.toml
once; indexing what it saved is the caller's part. Depends on newsbot.index and newsbot.config only.
"""

from newsbot.feeds.poll import poll_feeds, update_feeds

__all__ = ["poll_feeds", "update_feeds"]
