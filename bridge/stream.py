"""Decode a reply stream and write it: text as it arrives, reasoning in ``<think>`` tags."""

import math
import time
from dataclasses import dataclass, field

from . import harmony, sse, wire
from .errors import StreamError


@dataclass
class Stats:
    """What ``!stats`` reports: our own clock, and the server's figures when it sends them."""

    started: float
    responded: float = 0.0
    first_piece: float | None = None
    finished: float = 0.0
    pieces: int = 0
    usage: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    finish_reason: str | None = None
    notes: list = field(default_factory=list)  # what the server said about a cut reply, as !note lines


def stream(request, chunks, out, stats, *, clock=time.monotonic, stops=None):
    """Write the reply carried by ``chunks`` (bytes) to ``out``; fill ``stats``.

    ``stops`` (a ``stops.StopFilter``, cursor infill) sees the text first; when
    it says the completion is complete, this returns at once and the caller's
    closing of the response stops the server.
    """
    decoder = wire.module(request.wire)
    decode, may_be_error = decoder.decode, wire.may_be_error  # chosen once per stream, as are the reply's filters
    reply = Reply(request, out, stats, stops, clock)
    text, take = reply.text_piece, reply.take
    done = stopped = False
    try:
        for kind, data, raw in sse.events(chunks):
            if kind == "error" or may_be_error(data):  # rare: [DONE], errors, lists, text that is not JSON
                if data == sse.DONE:
                    done = True
                    break
                _raise_on_error(kind, data, raw)
                if not isinstance(data, dict):
                    continue
            for piece in decode(data, kind):
                if piece.__class__ is str:  # reply text: nearly every piece
                    stopped = text(piece)
                else:
                    done = done or isinstance(piece, wire.Done)
                    stopped = take(piece)
                if stopped:
                    break
            if stopped:
                break
    except sse.FrameError as err:
        raise StreamError(f"the reply from {request.url} {err.reason}", hint="the text so far is kept") from None
    reply.finish(stopped)
    if not stopped:
        stats.notes += cut_notes(decoder, request, reply)
    if not done and not stopped:
        raise StreamError(
            f"the reply from {request.url} ended before it was complete (the connection closed without an end-of-stream marker)",
            hint="the server may have crashed or been stopped; the text so far is kept — run again to continue it",
        )


def cut_notes(decoder, request, reply):
    """The notes for what the server said cut the reply short (the output limit, a full context, ...), each once."""
    notes = (decoder.cut_note(cut, request.json, wrote=reply.wrote, source_file=request.source_file) for cut in reply.cuts)
    return list(dict.fromkeys(note for note in notes if note))


def _raise_on_error(kind, data, raw):
    message = wire.error_message(data) if data is not None else None
    if message or kind == "error":
        quoted = " ".join((message or raw).split())  # !error is one line
        raise StreamError(f"the server reported an error during the reply: {quoted}")


class Reply:
    """One reply being written: text goes through the echo, stop and harmony filters in that order."""

    def __init__(self, request, out, stats, stops, clock):
        self.out, self.stats, self.stops, self.clock = out, stats, stops, clock
        self.echo = EchoFilter(request.continues) if request.continues else None
        self.gpt_oss = harmony.filter() if request.gpt_oss else None
        self.thinking = False
        self.wrote = False  # any answer text came (not only reasoning)
        self.cuts = []
        # a piece of reply text: straight to the output when no filter is on (chosen once, not per piece)
        self.text_piece = self._filtered if self.echo or self.stops or self.gpt_oss else self._plain

    def take(self, piece):
        """Handle one decoded piece; True when the stop filter says the completion is complete."""
        if piece.__class__ is str:
            return self.text_piece(piece)
        if isinstance(piece, wire.Reasoning):
            self._counted()
            self._think(True)
            self.out.write(piece.text)
        elif isinstance(piece, wire.Done):
            self.stats.finish_reason = piece.reason
        elif isinstance(piece, wire.Cut):
            self.cuts.append(piece)
        elif isinstance(piece, wire.Meta):
            self.stats.usage.update(piece.usage or {})
            self.stats.timings.update(piece.timings or {})
        elif isinstance(piece, wire.Fail):
            raise StreamError(piece.message)
        return False

    def _plain(self, text):
        """A piece of reply text, no filter on: written as it is."""
        stats = self.stats
        stats.pieces += 1
        if stats.first_piece is None:
            stats.first_piece = self.clock()
        if self.thinking:
            self._think(False)
        self.wrote = True
        self.out.write(text)
        return False

    def _filtered(self, text):
        """A piece of reply text through the filters; True when the stop filter ends the completion."""
        self._counted()
        self._think(False)
        self.wrote = True
        return self.text(text)

    def _counted(self):
        stats = self.stats
        stats.pieces += 1
        if stats.first_piece is None:
            stats.first_piece = self.clock()

    def text(self, text):
        """Write reply text through the filters; True when the stop filter ends the completion."""
        if self.echo:
            text = self.echo.feed(text)
        stop = False
        if self.stops:
            text, stop = self.stops.feed(text)
            if stop:
                self.stats.finish_reason = "stop heuristic: " + (self.stops.reason or "")
        self._write(text)
        return stop

    def finish(self, stopped):
        """Flush what the filters hold back (not after a stop: that text was cut) and close <think>."""
        if not stopped and self.echo:
            stopped = self.text(self.echo.flush())
        if not stopped and self.stops:
            self._write(self.stops.finish())
        if self.gpt_oss:
            self.out.write(self.gpt_oss.flush())
        self._think(False)
        self.out.flush()  # a half character still held is written as U+FFFD
        self.stats.finished = self.clock()

    def _write(self, text):
        self.out.write(self.gpt_oss.feed(text) if self.gpt_oss else text)

    def _think(self, on):
        if on != self.thinking:
            self.out.write("<think>\n" if on else "\n</think>\n\n")
            self.thinking = on


class EchoFilter:
    """Drops the continued text when the server sends it back before the continuation.

    Continuing an ``!assistant`` message uses assistant prefill. Some llama.cpp
    builds start such a reply with the prefill itself; most servers send only
    the continuation. The first text is held while it may still be the echo.
    """

    def __init__(self, prefill):
        self.prefill = prefill
        self.held = ""
        self.decided = False

    def feed(self, text):
        if self.decided:
            return text
        self.held += text
        if self.held.startswith(self.prefill):
            return self._decide(self.held[len(self.prefill):])
        if self.prefill.startswith(self.held):
            return ""  # still possibly the echo
        return self._decide(self.held)

    def flush(self):
        return "" if self.decided else self._decide(self.held)

    def _decide(self, text):
        self.decided, self.held = True, ""
        return text


def _number(value):
    """``value`` when it is a finite number (a server may send null, strings or booleans), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an integer with hundreds of digits
        return None
    return value if math.isfinite(value) else None


def format_stats(stats):
    """The ``!note`` line of ``!stats``; server figures that are not numbers are left out."""
    elapsed = max(stats.finished - stats.responded, 1e-9)
    ttfb = (stats.responded - stats.started) * 1000
    parts = [f"{stats.pieces / elapsed:.3g} tok/s, {stats.pieces} toks, {ttfb:.0f} ms to first byte"]
    if stats.first_piece is not None:
        parts[0] += f", {(stats.first_piece - stats.started) * 1000:.0f} ms to first token"
    t = {key: _number(value) for key, value in stats.timings.items()}
    if t.get("prompt_n") is not None and t.get("predicted_n") is not None:
        cached = f", {t['cache_n']:.0f} cached" if t.get("cache_n") else ""
        parts.append(f"server: {_phase('prompt', t, 'prompt')}{cached}, {_phase('generated', t, 'predicted')}")
    u = stats.usage
    prompt = _number(u.get("prompt_tokens", u.get("input_tokens")))
    completion = _number(u.get("completion_tokens", u.get("output_tokens")))
    if prompt is not None:
        parts.append(f"usage: {prompt:.0f} prompt" + (f" + {completion:.0f} completion tokens" if completion is not None else " tokens"))
    return "; ".join(parts)


def _phase(label, t, name):
    """``LABEL N tok in M ms (R tok/s)`` from llama.cpp's ``NAME_n``, ``NAME_ms``, ``NAME_per_second`` (those that are numbers)."""
    text = f"{label} {t[f'{name}_n']:.0f} tok"
    if t.get(f"{name}_ms") is not None:
        text += f" in {t[f'{name}_ms']:.0f} ms"
    if t.get(f"{name}_per_second") is not None:
        text += f" ({t[f'{name}_per_second']:.4g} tok/s)"
    return text
