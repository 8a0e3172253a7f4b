package sqlite

import "github.com/backchannel/backchannel"

// Activity pages (admin.analytics.messages.activity) are cached like
// history pages, and as exactly: an entry holds the channel's version (bumped
// by messages, deletions and reactions) and its activity version (bumped by
// views, clicks and shares) as of the read, and is served only while both
// are unchanged. Views are far more frequent than posts, so they have their
// own version and do not evict the channel's history pages.

// maxActPages bounds the cache: a full page is ~100 KB of counters.
const maxActPages = 128

type actKey struct {
	channel        string
	oldest, latest backchannel.TS
	limit          int
}

type actEntry struct {
	chanVer, actVer uint64
	page            backchannel.MessageActivityPage
}

// actVersions returns the versions an activity read is tagged with.
func (c *cache) actVersions(ch string) (chanVer, actVer uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chanV(ch), c.actV(ch)
}

func (c *cache) getActPage(k actKey, chanVer, actVer uint64) (backchannel.MessageActivityPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.actPages[k]
	if !ok || e.chanVer != chanVer || e.actVer != actVer {
		return backchannel.MessageActivityPage{}, false
	}
	return e.page, true
}

// putActPage keeps p unless a write committed since the read began.
func (c *cache) putActPage(k actKey, chanVer, actVer uint64, p backchannel.MessageActivityPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pages.Enabled() || chanVer != c.chanV(k.channel) || actVer != c.actV(k.channel) {
		return
	}
	if len(c.actPages) >= maxActPages {
		for old := range c.actPages { // evict an arbitrary entry
			delete(c.actPages, old)
			break
		}
	}
	c.actPages[k] = actEntry{chanVer: chanVer, actVer: actVer, page: p}
}
