"""Streaming literal replacement: patterns may be split across chunks. Each character is looked at a bounded number of times."""


class Replacer:
    """Replace literal patterns in a stream of text chunks; the longest pattern wins."""

    def __init__(self, mapping):
        self.mapping = dict(mapping)
        self.pending = ""
        self.by_first = {}  # patterns by their first character: most text is skipped with one set lookup
        for pattern in filter(None, self.mapping):
            self.by_first.setdefault(pattern[0], []).append(pattern)
        self.first = frozenset(self.by_first)

    def feed(self, text):
        """Return the text that is safe to emit after adding ``text``."""
        return self._run(self.pending + text, final=False)

    def flush(self):
        """Emit what is held back at the end of the stream (partial patterns stay as they are)."""
        return self._run(self.pending, final=True)

    def _run(self, data, final):
        out, i, start = [], 0, 0  # data[start:i] is plain text not yet copied to out
        longest = max(map(len, self.mapping), default=0)
        while i < len(data):
            if data[i] not in self.first:
                i += 1
                continue
            if not final and len(data) - i < longest and any(len(p) > len(data) - i and p.startswith(data[i:]) for p in self.mapping):
                break  # a longer pattern may still be completed by the next chunk
            hit = max((p for p in self.by_first[data[i]] if data.startswith(p, i)), key=len, default="")
            if hit:
                out.append(data[start:i])
                out.append(self.mapping[hit])
                i += len(hit)
                start = i
            else:
                i += 1
        out.append(data[start:i])
        self.pending = data[i:]
        return "".join(out)
