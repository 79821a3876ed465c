"""Streaming literal replacement: patterns may be split across chunks."""


class Replacer:
    """Replace literal patterns in a stream of text chunks, holding back partial matches."""

    def __init__(self, mapping):
        self.mapping = dict(mapping)
        self.pending = ""

    def feed(self, text):
        """Return the text that is safe to emit after adding ``text``."""
        data = self.pending + text
        out = []
        i = 0
        while i < len(data):
            hit = next((p for p in self.mapping if data.startswith(p, i)), None)
            if hit is not None:
                out.append(self.mapping[hit])
                i += len(hit)
                continue
            rest = data[i:]
            if any(p.startswith(rest) for p in self.mapping):
                break  # a pattern may be completed by the next chunk
            out.append(data[i])
            i += 1
        self.pending = data[i:]
        return "".join(out)

    def flush(self):
        """Emit whatever is held back (the stream ended mid-pattern)."""
        text, self.pending = self.pending, ""
        return text
