"""Breadth-first exploration of one pathway's state space, for the context-dependent checks.

A configuration is a tuple of small ints::

    (state, facts, pending, covered, holds, full, referral)

``facts`` is a bit mask over the facts that guards read; ``pending`` the transition
awaiting approval (-1: none) and ``covered`` the roles or sectors that approved it;
``holds`` the places this case holds per resource; ``full`` a bit mask of the resources
whose places are all taken by other cases; ``referral`` the hand-over transition whose
answer the case waits for (-1: none).

The model follows the engine exactly, with every action taking no time: only a deadline
or an approval timeout moves the clock. Facts can change at any time (a citizen may
withdraw consent), other cases take and free places at any time, and a receiving
pathway may accept or decline. The explorer records, per configuration, the step that
first reached it, so every path it returns is a shortest one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping

import attrs

from .graph import is_leaving
from .model import Pathway, Resource, RuleKind

Config = tuple[int, int, int, int, tuple[int, ...], int, int]
Code = tuple[int, int, int]
"""(step kind, transition or fact or resource index, approval key or new fact value)."""

# step kinds
FIRE, REQUEST, APPROVE, REFUSE, TIMEOUT, DEADLINE, FACT, FULL, FREE, ACCEPTED, DECLINED, LEAVE = range(12)

# why a configuration is stuck
STUCK_CAPACITY, STUCK_GUARD, STUCK_REFERRAL, STUCK_NOBODY, STUCK_APPROVAL = range(5)


@attrs.frozen
class _T:
    """One transition, pre-digested for the inner loop."""

    index: int
    dest: int
    has_roles: bool
    pos: int
    neg: int
    known_guards: bool
    take: int
    release: int
    set_on: int
    set_off: int
    approval: bool
    leaving: bool
    handover: bool


@attrs.frozen
class _Rule:
    keys: int
    """Number of approval keys (roles, or sectors for one_per_sector)."""
    eligible: tuple[bool, ...]
    """Per key: whether any role of the pathway can give it."""
    need_all: bool
    n: int
    refusal: int
    timeout: float | None
    """Seconds until the approval times out, if it does."""


class Space:
    """The explored configurations of one pathway, with BFS parents for shortest paths."""

    def __init__(self, pathway: Pathway, resources: Mapping[str, Resource], bound: int) -> None:
        self.pathway = pathway
        self.bound = bound
        p = pathway
        self.state_ids = [s.id for s in p.states]
        idx = {s: i for i, s in enumerate(self.state_ids)}
        self.terminal = [s.terminal for s in p.states]
        guard_facts = sorted({g.fact for t in p.transitions for g in t.guards if g.fact in p.facts})
        self.facts = guard_facts
        fbit = {f: 1 << i for i, f in enumerate(guard_facts)}
        used = sorted({r for t in p.transitions for r in (t.takes, t.releases) if r and r in resources})
        self.resources = used
        self.capacity = [resources[r].capacity for r in used]
        ridx = {r: i for i, r in enumerate(used)}
        self.taken = sorted({ridx[t.takes] for t in p.transitions if t.takes in ridx})
        self.transitions = p.transitions
        digested: list[_T] = []
        for i, t in enumerate(p.transitions):
            pos = neg = 0
            known = True
            for g in t.guards:
                if g.fact not in fbit:
                    known = False
                elif g.negated:
                    neg |= fbit[g.fact]
                else:
                    pos |= fbit[g.fact]
            on = sum(fbit[f] for f, v in t.sets.items() if v and f in fbit)
            off = sum(fbit[f] for f, v in t.sets.items() if not v and f in fbit)
            digested.append(_T(
                i, idx.get(t.dest, -1), any(r in p.roles for r in t.roles), pos, neg, known and not (pos & neg),
                ridx.get(t.takes or "", -1), ridx.get(t.releases or "", -1), on, off,
                t.approval is not None, is_leaving(p, t), t.handover is not None,
            ))
        self.digested = digested
        self.out: list[list[_T]] = [[] for _ in self.state_ids]
        for i, t in enumerate(p.transitions):
            if digested[i].dest < 0:
                continue
            for src in p.sources_of(t):
                if src in idx:
                    self.out[idx[src]].append(digested[i])
        self.deadline: list[_T | None] = []
        for s, out in zip(p.states, self.out, strict=True):
            esc = [t for t in out if s.deadline and p.transitions[t.index].trigger == s.deadline.trigger]
            self.deadline.append(esc[0] if esc else None)
        self.rules: dict[int, _Rule] = {}
        for i, t in enumerate(p.transitions):
            a = t.approval
            if a is None:
                continue
            if a.rule is RuleKind.ONE_PER_SECTOR:
                pool = [r for r in (a.roles or tuple(p.roles)) if r in p.roles]
                eligible = tuple(any(p.roles[r].sector == sec for r in pool) for sec in a.sectors)
            else:
                eligible = tuple(r in p.roles for r in a.roles)
            self.rules[i] = _Rule(
                len(eligible), eligible, a.rule is not RuleKind.N_OF, a.n or 0, idx.get(a.on_refusal, -1),
                a.timeout.total_seconds() if a.timeout is not None else None,
            )
        self.deadline_after = [s.deadline.after.total_seconds() if s.deadline else None for s in p.states]
        self.handovers: dict[int, tuple[int, int]] = {
            i: (idx.get(t.handover.accepted, -1), idx.get(t.handover.declined, -1))
            for i, t in enumerate(p.transitions) if t.handover is not None
        }
        init_facts = sum(b for f, b in fbit.items() if p.facts[f].default)
        self.zero = tuple(0 for _ in used)
        self.start: Config = (idx[p.initial], init_facts, -1, 0, self.zero, 0, -1)
        self.starts = [self.start]
        if p.intake is not None and p.intake.state in idx and p.intake.state != p.initial:
            self.starts.append((idx[p.intake.state], init_facts, -1, 0, self.zero, 0, -1))
        self.parent: dict[Config, tuple[Config, Code] | None] = dict.fromkeys(self.starts)
        self.first_in: dict[int, Config] = {}
        self.stuck: list[tuple[int, Config]] = []
        self.fired: set[int] = set()
        self.complete = True

    # -- exploring -------------------------------------------------------------------

    def explore(self) -> Space:
        """Run the BFS to completion or to the bound; returns ``self``."""
        parent = self.parent
        queue: deque[Config] = deque(self.starts)
        first_in = self.first_in
        bound = self.bound
        while queue:
            cfg = queue.popleft()
            if cfg[0] not in first_in:
                first_in[cfg[0]] = cfg
            if self.terminal[cfg[0]]:
                continue
            progress = False
            for code, nxt, moves in self._successors(cfg):
                progress = progress or moves
                if nxt not in parent:
                    if len(parent) >= bound:
                        self.complete = False
                        return self
                    parent[nxt] = (cfg, code)
                    queue.append(nxt)
            if not progress:
                self.stuck.append((self._why_stuck(cfg), cfg))
        return self

    def _move(self, cfg: Config, t: _T, holds: tuple[int, ...], full: int, dest: int | None = None) -> Config:
        d = t.dest if dest is None else dest
        if self.terminal[d]:
            return (d, 0, -1, 0, self.zero, 0, -1)
        facts = (cfg[1] | t.set_on) & ~t.set_off
        return (d, facts, -1, 0, holds, full, t.index if t.handover else -1)

    def _places(self, cfg: Config, t: _T) -> tuple[tuple[int, ...], int] | None:
        """Holds and full-mask after ``t`` takes/releases, or ``None`` if it cannot."""
        holds, full = cfg[4], cfg[5]
        # the engine asks for a free place before the transition gives its own back
        if t.take >= 0 and (full >> t.take & 1 or holds[t.take] >= self.capacity[t.take]):
            return None
        if t.release >= 0:
            if holds[t.release] < 1:
                return None
            holds = (*holds[: t.release], holds[t.release] - 1, *holds[t.release + 1:])
            full &= ~(1 << t.release)
        if t.take >= 0:
            holds = (*holds[: t.take], holds[t.take] + 1, *holds[t.take + 1:])
        return holds, full

    def _guards(self, facts: int, t: _T) -> bool:
        return t.known_guards and facts & t.pos == t.pos and not facts & t.neg

    def _successors(self, cfg: Config) -> Iterator[tuple[Code, Config, bool]]:
        """Every step from ``cfg``: (code, next configuration, whether it moves the citizen on)."""
        s, facts, pend, cov, holds, full, ref = cfg
        for t in self.out[s]:
            if not t.has_roles or not self._guards(facts, t):
                continue
            places = self._places(cfg, t)
            if places is None:
                continue
            if t.approval:
                if pend != t.index:
                    self.fired.add(t.index)
                    yield (REQUEST, t.index, 0), (s, facts, t.index, 0, holds, full, ref), not t.leaving
                continue
            self.fired.add(t.index)
            yield ((LEAVE if t.leaving else FIRE), t.index, 0), self._move(cfg, t, *places), not t.leaving
        if pend >= 0:
            yield from self._approvals(cfg)
        dl = self.deadline[s]
        if dl is not None and not (pend >= 0 and self._timeout_first(s, pend)):
            places = self._places(cfg, dl)
            if places is not None:
                self.fired.add(dl.index)
                yield (DEADLINE, dl.index, 0), self._move(cfg, dl, *places), True
        if ref >= 0:
            acc, dec = self.handovers[ref]
            if acc >= 0:
                yield (ACCEPTED, ref, 0), self._answer(cfg, acc), True
            if dec >= 0:
                yield (DECLINED, ref, 0), self._answer(cfg, dec), True
        for i in range(len(self.facts)):
            yield (FACT, i, 0 if facts >> i & 1 else 1), (s, facts ^ (1 << i), pend, cov, holds, full, ref), False
        for r in self.taken:
            kind = FREE if full >> r & 1 else FULL
            yield (kind, r, 0), (s, facts, pend, cov, holds, full ^ (1 << r), ref), False

    def _answer(self, cfg: Config, dest: int) -> Config:
        if self.terminal[dest]:
            return (dest, 0, -1, 0, self.zero, 0, -1)
        return (dest, cfg[1], -1, 0, cfg[4], cfg[5], -1)

    def _approvals(self, cfg: Config) -> Iterator[tuple[Code, Config, bool]]:
        s, facts, pend, cov, holds, full, ref = cfg
        rule = self.rules[pend]
        t = self.digested[pend]
        for k in range(rule.keys):
            if not rule.eligible[k] or cov >> k & 1:
                continue
            new = cov | 1 << k
            met = new == (1 << rule.keys) - 1 if rule.need_all else bin(new).count("1") >= rule.n
            if not met:
                yield (APPROVE, pend, k), (s, facts, pend, new, holds, full, ref), True
                continue
            places = self._places(cfg, t)
            if places is None or not self._guards(facts, t):
                continue
            self.fired.add(pend)
            yield (APPROVE, pend, k), self._move(cfg, t, *places), True
        if rule.refusal >= 0 and any(rule.eligible):
            yield (REFUSE, pend, 0), self._answer(cfg, rule.refusal), True
        if rule.refusal >= 0 and self._timeout_first(s, pend):
            yield (TIMEOUT, pend, 0), self._answer(cfg, rule.refusal), True

    def _timeout_first(self, s: int, pend: int) -> bool:
        """Whether the pending approval times out before the state's deadline passes.

        Every action takes no time, so a request is made when the state is entered and
        both clocks start together; on a tie the deadline wins, as in the engine.
        """
        timeout = self.rules[pend].timeout
        after = self.deadline_after[s]
        return timeout is not None and (after is None or timeout < after)

    def _why_stuck(self, cfg: Config) -> int:
        s, facts, _, _, _, _, _ = cfg
        blocked_by_places = blocked_by_guards = False
        for t in self.out[s]:
            if t.leaving or not t.has_roles:
                continue
            if not self._guards(facts, t):
                blocked_by_guards = True
            elif self._places(cfg, t) is None and t.take >= 0:
                blocked_by_places = True
        if cfg[2] >= 0:
            return STUCK_APPROVAL
        if blocked_by_places:
            return STUCK_CAPACITY
        if blocked_by_guards:
            return STUCK_GUARD
        if any(self.handovers.get(t.index) is not None and t.dest == s for t in self.digested):
            return STUCK_REFERRAL
        return STUCK_NOBODY

    # -- reading results ----------------------------------------------------------------

    def path(self, cfg: Config) -> tuple[Config, list[tuple[Config, Code, Config]]]:
        """The shortest path to ``cfg``: its start, and the steps (before, step, after)."""
        out: list[tuple[Config, Code, Config]] = []
        node = cfg
        while True:
            link = self.parent[node]
            if link is None:
                break
            prev, code = link
            out.append((prev, code, node))
            node = prev
        out.reverse()
        return node, out
