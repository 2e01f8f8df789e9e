"""Breadth-first exploration of one pathway's state space, for the context-dependent checks.

A configuration is one ``int`` with these fields packed into it (for speed: hashing
and copying an int is what a BFS over millions of configurations spends its time on);
:meth:`Space.decode` unpacks it into the tuple::

    (state, facts, pending, covered, holds, full, referral)

``facts`` is a bit mask over the facts that guards read; ``pending`` the transition
awaiting approval (-1: none) and ``covered`` the roles or sectors that approved it;
``holds`` the places this case holds per resource; ``full`` a bit mask of the resources
whose places are all taken by other cases; ``referral`` the hand-over transition whose
answer the case waits for (-1: none).

The model follows the engine exactly, with every action taking no time: only a deadline
or an approval timeout moves the clock. Facts can change at any time (a citizen may
withdraw consent) when some role may set them (:meth:`~pathways.model.Pathway.setters`); a
fact nobody may set keeps its start value until a transition ``sets`` it. Other cases take and free places at any time, and a receiving
pathway may accept or decline. The explorer records, per configuration, the step that
first reached it, so every path it returns is a shortest one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

import attrs

from .approvals import Mask, rule_of
from .model import Pathway, Resource

Config = tuple[int, int, int, int, tuple[int, ...], int, int]
Code = tuple[int, int, int]
"""(step kind, transition or fact or resource index, approval key or new fact value)."""

# step kinds
FIRE, REQUEST, APPROVE, REFUSE, TIMEOUT, DEADLINE, FACT, FULL, FREE, ACCEPTED, DECLINED, LEAVE = range(12)

# why a configuration is stuck
STUCK_CAPACITY, STUCK_GUARD, STUCK_REFERRAL, STUCK_NOBODY, STUCK_APPROVAL = range(5)


@attrs.frozen
class _T:
    """One transition, pre-digested for the inner loop; masks are already shifted into place."""

    index: int
    dest: int
    """The destination's packed state field (its index)."""
    terminal: bool
    has_roles: bool
    pos: int
    neg: int
    known_guards: bool
    take_full: int
    """The full bit of the resource it takes (0: takes none)."""
    take_shift: int
    take_mask: int
    take_cap: int
    release_shift: int
    """-1: releases none."""
    release_mask: int
    release_full: int
    set_on: int
    set_off: int
    approval: bool
    leaving: bool
    ref: int
    """The packed referral field it sets (hand-overs), else 0."""


@attrs.frozen
class _Rule:
    mask: Mask
    """The rule over its keys (roles, or sectors): which any role can give, how many are needed."""
    refusal: int
    timeout: float | None
    """Seconds until the approval times out, if it does."""


def _width(n: int) -> int:
    return max(1, n.bit_length())


class Space:
    """The explored configurations of one pathway, with BFS parents for shortest paths."""

    def __init__(self, pathway: Pathway, resources: Mapping[str, Resource], bound: int) -> None:
        self.pathway = pathway
        self.bound = bound
        p = pathway
        self.state_ids = [s.id for s in p.states]
        idx = self._index = {s: i for i, s in enumerate(self.state_ids)}
        self.terminal = [s.terminal for s in p.states]
        self.facts = sorted({g.fact for t in p.transitions for g in t.guards if g.fact in p.facts})
        self.settable = [bool(p.setters(f)) for f in self.facts]
        """Per fact: whether some role may change it with ``set_fact`` (else only ``sets`` do)."""
        used = sorted({r for t in p.transitions for r in (t.takes, t.releases) if r and r in resources})
        self.resources = used
        self.capacity = [resources[r].capacity for r in used]
        ridx = {r: i for i, r in enumerate(used)}
        self.taken = sorted({ridx[t.takes] for t in p.transitions if t.takes in ridx})
        self.rules: dict[int, _Rule] = {}
        for i, t in enumerate(p.transitions):
            a = t.approval
            if a is None:
                continue
            self.rules[i] = _Rule(
                rule_of(a).mask(p), idx.get(a.on_refusal, -1), a.timeout.total_seconds() if a.timeout is not None else None,
            )
        self._layout(len(p.states), len(p.transitions), max((len(r.mask.keys) for r in self.rules.values()), default=0))
        fbit = {f: 1 << (self.f_shift + i) for i, f in enumerate(self.facts)}
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
            take, rel = ridx.get(t.takes or "", -1), ridx.get(t.releases or "", -1)
            dest = idx.get(t.dest, -1)
            digested.append(_T(
                i, dest, dest >= 0 and self.terminal[dest], any(r in p.roles for r in t.roles), pos, neg,
                known and not (pos & neg),
                1 << (self.u_shift + take) if take >= 0 else 0,
                self.h_shift[take] if take >= 0 else 0, self.h_mask[take] if take >= 0 else 0,
                self.capacity[take] if take >= 0 else 0,
                self.h_shift[rel] if rel >= 0 else -1, self.h_mask[rel] if rel >= 0 else 0,
                1 << (self.u_shift + rel) if rel >= 0 else 0,
                sum(fbit[f] for f, v in t.sets.items() if v and f in fbit),
                sum(fbit[f] for f, v in t.sets.items() if not v and f in fbit),
                t.approval is not None, p.is_leaving(t), (i + 1) << self.r_shift if t.handover else 0,
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
        self.deadline_after = [s.deadline.after.total_seconds() if s.deadline else None for s in p.states]
        self.handovers: dict[int, tuple[int, int]] = {
            i: (idx.get(t.handover.accepted, -1), idx.get(t.handover.declined, -1))
            for i, t in enumerate(p.transitions) if t.handover is not None
        }
        self.handover_waits = {t.dest for t in p.transitions if t.handover is not None}
        init_facts = sum(b for f, b in fbit.items() if p.facts[f].default)
        self.start_code = idx[p.initial] | init_facts
        starts = [self.start_code]
        # A fact nobody may set can still be given when the case starts (a host that knows
        # of the contract): every combination of those facts is a start of its own.
        fixed = [fbit[f] for f, ok in zip(self.facts, self.settable, strict=True) if not ok]
        for combo in range(1, 1 << len(fixed)):
            starts.append(self.start_code ^ sum(bit for j, bit in enumerate(fixed) if combo >> j & 1))
        if p.intake is not None and p.intake.state in idx and p.intake.state != p.initial:
            starts.append(idx[p.intake.state] | init_facts)
        self.starts = starts
        self.parent: dict[int, int | None] = dict.fromkeys(starts)
        self._first_in: dict[int, int] = {}
        self._stuck: list[tuple[int, int]] = []
        self.fired: set[int] = set()
        self.complete = True

    def _layout(self, states: int, transitions: int, keys: int) -> None:
        """Where each field sits in the packed int."""
        shift = _width(states)
        self.s_mask = (1 << shift) - 1
        self.f_shift = shift
        shift += len(self.facts)
        self.p_shift, p_width = shift, _width(transitions + 1)
        shift += p_width
        self.c_shift, c_width = shift, keys
        shift += c_width
        self.h_shift: list[int] = []
        self.h_mask: list[int] = []
        for cap in self.capacity:
            self.h_shift.append(shift)
            self.h_mask.append((1 << _width(cap)) - 1)
            shift += _width(cap)
        self.u_shift = shift
        shift += len(self.capacity)
        self.r_shift = shift
        self.keep = ((1 << self.p_shift) - 1) & ~self.s_mask  # facts
        self.keep |= ((1 << self.r_shift) - 1) & ~((1 << (self.c_shift + c_width)) - 1)  # holds and full
        self.p_mask = (1 << p_width) - 1
        self.c_mask = (1 << c_width) - 1

    # -- packing -----------------------------------------------------------------------

    def decode(self, code: int) -> Config:
        """The packed configuration as ``(state, facts, pending, covered, holds, full, referral)``."""
        holds = tuple((code >> sh) & m for sh, m in zip(self.h_shift, self.h_mask, strict=True))
        return (
            code & self.s_mask,
            (code >> self.f_shift) & ((1 << len(self.facts)) - 1),
            ((code >> self.p_shift) & self.p_mask) - 1,
            (code >> self.c_shift) & self.c_mask,
            holds,
            (code >> self.u_shift) & ((1 << len(self.capacity)) - 1),
            (code >> self.r_shift) - 1,
        )

    def encode(self, cfg: Config) -> int:
        s, facts, pend, cov, holds, full, ref = cfg
        code = s | facts << self.f_shift | (pend + 1) << self.p_shift | cov << self.c_shift
        for h, sh in zip(holds, self.h_shift, strict=True):
            code |= h << sh
        return code | full << self.u_shift | (ref + 1) << self.r_shift

    @property
    def start(self) -> Config:
        return self.decode(self.start_code)

    def first_in(self, state: str) -> Config | None:
        """The first (so nearest) configuration explored in ``state``, if any."""
        code = self._first_in.get(self._index[state])
        return None if code is None else self.decode(code)

    @property
    def stuck(self) -> list[tuple[int, Config]]:
        """Configurations where nothing moves the citizen on, in BFS order, with why."""
        return [(why, self.decode(c)) for why, c in self._stuck]

    # -- exploring -------------------------------------------------------------------

    def _fast(self) -> list[list[tuple[int, int, int, int, int, int, int, Code]]]:
        """Per state, the transitions someone could fire, as flat tuples for the hot loop.

        Each is ``(index, pos, neg, keep, put, kind, leaving, code)``: for a plain move the
        next configuration is ``cfg & keep | put``; ``kind`` 0 plain, 1 with places (see
        :meth:`_move`), 2 asks for approval.
        """
        fast = []
        for out in self.out:
            rows = []
            for t in out:
                if not (t.has_roles and t.known_guards):
                    continue
                kind = 2 if t.approval else 1 if (t.take_full or t.release_shift >= 0) else 0
                if t.terminal:
                    keep, put = 0, t.dest
                else:
                    keep, put = self.keep & ~t.set_off, (t.set_on & ~t.set_off) | t.dest | t.ref
                code: Code = (REQUEST if t.approval else LEAVE if t.leaving else FIRE, t.index, 0)
                rows.append((t.index, t.pos, t.neg, keep, put, kind, int(t.leaving), code))
            fast.append(rows)
        return fast

    def explore(self) -> Space:
        """Run the BFS to completion or to the bound; returns ``self``."""
        parent = self.parent
        queue: deque[int] = deque(self.starts)
        first_in = self._first_in
        room = self.bound - len(parent)
        s_mask, terminal, fired, digested = self.s_mask, self.terminal, self.fired, self.digested
        fast = self._fast()
        p_shift, p_mask, c_shift, c_mask, r_shift = self.p_shift, self.p_mask, self.c_shift, self.c_mask, self.r_shift
        flips = [1 << (self.f_shift + i) for i in range(len(self.facts)) if self.settable[i]]
        flips += [1 << (self.u_shift + r) for r in self.taken]
        clear_pending = ~((p_mask << p_shift) | (c_mask << c_shift))
        deadline = self.deadline
        extra, places_ok, move = self._extra, self._places_ok, self._move
        pop, push = queue.popleft, queue.append
        while queue:
            cfg = pop()
            s = cfg & s_mask
            if s not in first_in:
                first_in[s] = cfg
            if terminal[s]:
                continue
            progress = False
            succ: list[int] = []  # in the order they are queued: fired transitions, time and answers, facts
            for i, pos, neg, keep, put, kind, leaving, _ in fast[s]:
                if cfg & pos != pos or cfg & neg:
                    continue
                if kind == 0:
                    nxt = (cfg & keep) | put
                elif kind == 1:
                    t = digested[i]
                    if not places_ok(cfg, t):
                        continue
                    nxt = move(cfg, t)
                else:
                    t = digested[i]
                    if not places_ok(cfg, t) or ((cfg >> p_shift) & p_mask) - 1 == i:
                        continue
                    nxt = (cfg & clear_pending) | (i + 1) << p_shift
                fired.add(i)
                if not leaving:
                    progress = True
                succ.append(nxt)
            if (cfg >> p_shift) & p_mask or cfg >> r_shift or deadline[s] is not None:
                for _, nxt in extra(cfg):
                    progress = True
                    succ.append(nxt)
            succ += [cfg ^ bit for bit in flips]
            for nxt in succ:
                if nxt not in parent:
                    if not room:
                        self.complete = False
                        return self
                    room -= 1
                    parent[nxt] = cfg
                    push(nxt)
            if not progress:
                self._stuck.append((self._why_stuck(cfg), cfg))
        return self

    def _steps(self, cfg: int) -> list[tuple[Code, int]]:
        """Every step from ``cfg``, in the order the BFS tries them (slow; for rebuilding paths)."""
        steps: list[tuple[Code, int]] = []
        p_shift, p_mask = self.p_shift, self.p_mask
        for t in self.out[cfg & self.s_mask]:
            if not (t.has_roles and self._guards(cfg, t) and self._places_ok(cfg, t)):
                continue
            if t.approval:
                if ((cfg >> p_shift) & p_mask) - 1 != t.index:
                    clear = ~((p_mask << p_shift) | (self.c_mask << self.c_shift))
                    steps.append(((REQUEST, t.index, 0), (cfg & clear) | (t.index + 1) << p_shift))
            else:
                steps.append(((LEAVE if t.leaving else FIRE, t.index, 0), self._move(cfg, t)))
        steps += self._extra(cfg)
        for i in range(len(self.facts)):
            if not self.settable[i]:
                continue
            bit = 1 << (self.f_shift + i)
            steps.append(((FACT, i, 0 if cfg & bit else 1), cfg ^ bit))
        for r in self.taken:
            bit = 1 << (self.u_shift + r)
            steps.append(((FREE, r, 0) if cfg & bit else (FULL, r, 1), cfg ^ bit))
        return steps

    def _extra(self, cfg: int) -> list[tuple[Code, int]]:
        """Approvals, deadlines and hand-over answers (rarer, so kept out of the hot loop)."""
        s, _, pend, _, _, _, ref = self.decode(cfg)
        steps: list[tuple[Code, int]] = []
        if pend >= 0:
            steps += self._approvals(cfg)
        dl = self.deadline[s]
        if dl is not None and not (pend >= 0 and self._timeout_first(s, pend)) and self._places_ok(cfg, dl):
            self.fired.add(dl.index)
            steps.append(((DEADLINE, dl.index, 0), self._move(cfg, dl)))
        if ref >= 0:
            acc, dec = self.handovers[ref]
            if acc >= 0:
                steps.append(((ACCEPTED, ref, 0), self._answer(cfg, acc)))
            if dec >= 0:
                steps.append(((DECLINED, ref, 0), self._answer(cfg, dec)))
        return steps

    def _places_ok(self, cfg: int, t: _T) -> bool:
        """Whether the engine lets ``t`` take and release its places now."""
        if t.take_full and (cfg & t.take_full or (cfg >> t.take_shift) & t.take_mask >= t.take_cap):
            return False
        return not (t.release_shift >= 0 and not (cfg >> t.release_shift) & t.release_mask)

    def _guards(self, cfg: int, t: _T) -> bool:
        return t.known_guards and cfg & t.pos == t.pos and not cfg & t.neg

    def _move(self, cfg: int, t: _T) -> int:
        if t.terminal:
            return t.dest
        nxt = ((cfg & self.keep) | t.set_on) & ~t.set_off
        if t.release_shift >= 0:
            nxt = (nxt - (1 << t.release_shift)) & ~t.release_full
        if t.take_full:
            nxt += 1 << t.take_shift
        return nxt | t.dest | t.ref

    def _answer(self, cfg: int, dest: int) -> int:
        """Moved to ``dest`` without a transition (refusal, timeout, hand-over answer)."""
        return dest if self.terminal[dest] else (cfg & self.keep) | dest

    def _approvals(self, cfg: int) -> list[tuple[Code, int]]:
        s, _, pend, cov, _, _, _ = self.decode(cfg)
        rule = self.rules[pend]
        mask = rule.mask
        t = self.digested[pend]
        steps: list[tuple[Code, int]] = []
        for k, eligible in enumerate(mask.eligible):
            if not eligible or cov >> k & 1:
                continue
            if not mask.met(cov | 1 << k):
                steps.append(((APPROVE, pend, k), cfg | (1 << (self.c_shift + k))))
            elif self._places_ok(cfg, t) and self._guards(cfg, t):
                self.fired.add(pend)
                steps.append(((APPROVE, pend, k), self._move(cfg, t)))
        if rule.refusal >= 0 and any(mask.eligible):
            steps.append(((REFUSE, pend, 0), self._answer(cfg, rule.refusal)))
        if rule.refusal >= 0 and self._timeout_first(s, pend):
            steps.append(((TIMEOUT, pend, 0), self._answer(cfg, rule.refusal)))
        return steps

    def _timeout_first(self, s: int, pend: int) -> bool:
        """Whether the pending approval times out before the state's deadline passes.

        Every action takes no time, so a request is made when the state is entered and
        both clocks start together; on a tie the deadline wins, as in the engine.
        """
        timeout = self.rules[pend].timeout
        after = self.deadline_after[s]
        return timeout is not None and (after is None or timeout < after)

    def _why_stuck(self, cfg: int) -> int:
        s = cfg & self.s_mask
        blocked_by_places = blocked_by_guards = False
        for t in self.out[s]:
            if t.leaving or not t.has_roles:
                continue
            if not self._guards(cfg, t):
                blocked_by_guards = True
            elif t.take_full and not self._places_ok(cfg, t):
                blocked_by_places = True
        if (cfg >> self.p_shift) & self.p_mask:
            return STUCK_APPROVAL
        if blocked_by_places:
            return STUCK_CAPACITY
        if blocked_by_guards:
            return STUCK_GUARD
        if self.state_ids[s] in self.handover_waits:
            return STUCK_REFERRAL
        return STUCK_NOBODY

    # -- reading results ----------------------------------------------------------------

    def first_referral(self, receiver: str) -> Config | None:
        """The nearest configuration that waits for an answer from pathway ``receiver``."""
        targets = {i + 1 for i, t in enumerate(self.pathway.transitions) if t.handover and t.handover.to == receiver}
        if not targets:
            return None
        r_shift = self.r_shift
        for code in self.parent:  # insertion order is BFS order
            if code >> r_shift in targets:
                return self.decode(code)
        return None

    def path(self, cfg: Config) -> tuple[Config, list[tuple[Config, Code, Config]]]:
        """The shortest path to ``cfg``: its start, and the steps (before, step, after)."""
        out: list[tuple[Config, Code, Config]] = []
        node = self.encode(cfg)
        while True:
            prev = self.parent[node]
            if prev is None:
                break
            code = next(c for c, nxt in self._steps(prev) if nxt == node)
            out.append((self.decode(prev), code, self.decode(node)))
            node = prev
        out.reverse()
        return self.decode(node), out
