package demo

import (
	"fmt"
	"strings"

	"github.com/backchannel/backchannel"
)

const (
	second = backchannel.TS(1_000_000)
	minute = 60 * second
	hour   = 60 * minute
)

// post schedules a message by user u in conversation ci at ts (a reply when
// thread is set) and decides what happens to it afterwards: a thread,
// reactions, an edit or a deletion, a pin, a star.
func (h *history) post(ci, u int, ts, thread backchannel.TS) {
	c, p := &h.o.convs[ci], &h.o.people[u]
	m := messageLine{
		Type: "message", Channel: c.ID, User: p.ID, TS: ts.String(), Team: p.TeamID,
		ClientMsgID: h.uuid(), Client: p.client,
	}
	if h.rng.IntN(5) == 0 {
		m.Client = pickClient(h.rng)
	}
	if thread != 0 {
		m.ThreadTS, m.Text = thread.String(), pick(h.rng, replies)
		if h.rng.IntN(25) == 0 {
			m.Subtype = "thread_broadcast"
		}
	} else {
		m.Text = pick(h.rng, sentences)
	}
	if h.rng.IntN(50) == 0 {
		m.Files = []file{h.file()}
	}
	if !h.schedule(ts, marshal(m)) {
		return
	}
	h.out.counts.Messages++
	if thread != 0 {
		h.out.counts.Replies++
	}
	threads := 12
	if c.Kind == backchannel.KindIM {
		threads = 4
	}
	switch x := h.rng.IntN(1000); {
	case thread == 0 && x < threads*10:
		h.thread(ci, ts)
	case x >= 990: // one in a hundred is deleted, and nothing else happens to it
		at := ts + h.delay(hour)
		h.schedule(at, marshal(aboutLine{Type: backchannel.EvMessageDeleted, Channel: c.ID, TS: ts.String(), EventTS: at.String()}))
		h.out.counts.Deletions++
		h.act.posted(ci, u, ts, thread, at)
		return
	}
	h.act.posted(ci, u, ts, thread, 0)
	h.reactions(ci, ts)
	if h.rng.IntN(100) < 3 {
		at := ts + h.delay(30*minute)
		h.schedule(at, marshal(changedLine{Type: backchannel.EvMessageChanged, Channel: c.ID, TS: ts.String(),
			Text: m.Text + " (edited)", Edited: backchannel.Edited{User: p.ID, TS: at.String()}, EventTS: at.String()}))
		h.out.counts.Edits++
	}
	if h.rng.IntN(250) == 0 {
		h.toggle(ci, ts, backchannel.EvPinAdded, backchannel.EvPinRemoved, 4)
	}
	if h.rng.IntN(120) == 0 {
		h.toggle(ci, ts, backchannel.EvStarAdded, backchannel.EvStarRemoved, 5)
	}
}

// delay returns a random delay of at least a second and at most max.
func (h *history) delay(max backchannel.TS) backchannel.TS {
	return second + backchannel.TS(h.rng.Int64N(int64(max)))
}

// thread adds one to six replies to the message at parent.
func (h *history) thread(ci int, parent backchannel.TS) {
	at := parent
	for range 1 + h.rng.IntN(6) {
		at += h.delay(40 * minute)
		if u, ok := h.author(ci, at); ok {
			h.post(ci, u, h.uniqueTS(at), parent)
		}
	}
}

// reactions adds reactions to a fifth of the messages; a few are removed.
func (h *history) reactions(ci int, ts backchannel.TS) {
	if h.rng.IntN(5) != 0 {
		return
	}
	c := &h.o.convs[ci]
	at := ts
	for range 1 + h.rng.IntN(3) {
		at += h.delay(2 * hour)
		u, ok := h.author(ci, at)
		if !ok {
			continue
		}
		ev := aboutLine{Type: backchannel.EvReactionAdded, Channel: c.ID, TS: ts.String(), User: h.o.people[u].ID,
			Reaction: pick(h.rng, emojis), EventTS: at.String()}
		if !h.schedule(at, marshal(ev)) {
			return
		}
		h.out.counts.Reactions++
		if h.rng.IntN(12) == 0 {
			off := at + h.delay(hour)
			ev.Type, ev.EventTS = backchannel.EvReactionRemoved, off.String()
			if h.schedule(off, marshal(ev)) {
				h.out.counts.Reactions++
			}
		}
	}
}

// toggle has a member pin or star the message, and in one case in every
// `undo` take it back later.
func (h *history) toggle(ci int, ts backchannel.TS, add, remove string, undo int) {
	at := ts + h.delay(3*hour)
	u, ok := h.author(ci, at)
	if !ok {
		return
	}
	ev := aboutLine{Type: add, Channel: h.o.convs[ci].ID, TS: ts.String(), User: h.o.people[u].ID, EventTS: at.String()}
	if h.schedule(at, marshal(ev)) && h.rng.IntN(undo) == 0 {
		at += h.delay(72 * hour)
		ev.Type, ev.EventTS = remove, at.String()
		h.schedule(at, marshal(ev))
	}
}

func (h *history) uuid() string {
	a, b := h.rng.Uint64(), h.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff)
}

var fileKinds = []struct{ ext, mime string }{
	{"pdf", "application/pdf"}, {"png", "image/png"}, {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}, {"txt", "text/plain"},
}

func (h *history) file() file {
	k := pick(h.rng, fileKinds)
	title := pick(h.rng, []string{"report", "screenshot", "budget", "notes", "design", "contract"})
	return file{ID: h.o.ids.next('F'), Name: fmt.Sprintf("%s-%d.%s", title, h.rng.IntN(1000), k.ext),
		Title: title, Mimetype: k.mime, Filetype: k.ext, Size: 1000 + h.rng.IntN(5_000_000)}
}

// botText fills a bot message template.
func (h *history) botText() string {
	t := pick(h.rng, botTexts)
	if strings.Contains(t, "%d") {
		return fmt.Sprintf(t, 1000+h.rng.IntN(9000))
	}
	return t
}
