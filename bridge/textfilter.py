"""Streaming literal replacement: patterns may be split across chunks."""


class Replacer:
    """Replace literal patterns in a stream of text chunks; the longest pattern wins."""

    def __init__(self, mapping):
        self.mapping = dict(mapping)
        self.pending = ""

    def feed(self, text):
        """Return the text that is safe to emit after adding ``text``."""
        return self._run(self.pending + text, final=False)

    def flush(self):
        """Emit what is held back at the end of the stream (partial patterns stay as they are)."""
        return self._run(self.pending, final=True)

    def _run(self, data, final):
        out, i = [], 0
        while i < len(data):
            rest = data[i:]
            whole = [p for p in self.mapping if rest.startswith(p)]
            longest = max(whole, key=len, default="")
            if not final and any(len(p) > len(rest) and p.startswith(rest) for p in self.mapping):
                break  # a longer pattern may still be completed by the next chunk
            if longest:
                out.append(self.mapping[longest])
                i += len(longest)
            else:
                out.append(data[i])
                i += 1
        self.pending = data[i:]
        return "".join(out)
