//! From `Created` to `rendering`: fetch the memory context, plan the DAG, route every stage.
//!
//! Every stage is routed up front with [`route_plan`] (which ranks each stage with the router's
//! five dimensions, splits the brief's budget between stages and checks the deadline), so the
//! view shows every decision (candidates, scores, reasons) from the start, and so the budget can
//! be checked before anything is spent: the cheapest candidate of every stage is its floor, and a
//! plan whose floors exceed the budget fails at once with the figures.

use super::Job;
use super::budget::Micros;
use super::deadlines::{DeadlineKey, MAX_MEMORY_FETCHES, MEMORY_TIMEOUT};
use super::effect::Effect;
use super::index::Index;
use super::ra_notes;
use super::state::{JobStatus, MemoryWait, StageRow, StageState};
use crate::brief::pacing_warnings_for;
use crate::brief::ra::{NoteTopic, RaNote};
use crate::ids::Attempt;
use crate::memory::MemoryContext;
use crate::memory::voice_cast::{self, Casting};
use crate::plan;
use crate::routing::live::{self, LiveHealth};
use crate::routing::registry_doc;
use crate::routing::{DeadlineCheck, RoutingContext, StageRequest, plan_options_for, route_plan};
use crate::time::Timestamp;

impl Job {
    pub(super) fn fetch_memory(&mut self, now: Timestamp, fetches: u32, fx: &mut Vec<Effect>) {
        let deadline = now.plus(MEMORY_TIMEOUT);
        self.header.memory_wait = Some(MemoryWait { fetches, deadline });
        self.idx.deadlines.set(DeadlineKey::Memory, Some(deadline));
        fx.push(Effect::FetchMemoryContext {
            job: self.spec.job_id.clone(),
            creator: self.spec.creator.clone(),
        });
    }

    pub(super) fn on_memory(
        &mut self,
        now: Timestamp,
        context: MemoryContext,
        fx: &mut Vec<Effect>,
    ) {
        // A pause holds submissions, not planning: the context is taken while paused too.
        if self.progress_status() != JobStatus::Planning || self.spec.memory.is_some() {
            return;
        }
        self.voices_cast(&context);
        self.spec.memory = Some(context);
        self.spec_dirty = true;
        self.header.memory_wait = None;
        self.idx.deadlines.set(DeadlineKey::Memory, None);
        self.plan(now, fx);
    }

    /// What the graph did for speakers without a voice (it casts them as it answers a job's
    /// context, see `memory::voice_cast`): Ra tells the Director, support's log keeps the ids
    fn voices_cast(&mut self, context: &MemoryContext) {
        for casting in &context.casting {
            let said = RaNote::new(NoteTopic::Voice, &voice_cast::note_body(casting));
            self.say(said);
            let line = match casting {
                Casting::Cast {
                    speaker,
                    voice_id,
                    voice_name,
                    ..
                } => format!(
                    "voice {voice_id} ({voice_name}) cast for {} and kept in the memory graph",
                    speaker.name
                ),
                Casting::NotCast { speaker, reason } => format!(
                    "no voice cast for {} ({reason:?}): the default voice speaks",
                    speaker.name
                ),
            };
            self.header.notes.push(line);
        }
    }

    pub(super) fn on_memory_due(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        let Some(wait) = self.header.memory_wait else {
            return;
        };
        if now < wait.deadline || self.progress_status() != JobStatus::Planning {
            return;
        }
        if wait.fetches < MAX_MEMORY_FETCHES {
            return self.fetch_memory(now, wait.fetches + 1, fx);
        }
        // A render without the creator's context is worse but still a render; say so.
        self.header.memory_wait = None;
        self.idx.deadlines.set(DeadlineKey::Memory, None);
        self.header.notes.push(format!(
            "the memory graph did not answer {MAX_MEMORY_FETCHES} requests; planned without the creator's context"
        ));
        self.say(ra_notes::planned_without_memory());
        self.plan(now, fx);
    }

    /// `Input::FleetHealth`: kept for planning (only while the job has not planned yet)
    pub(super) fn on_fleet_health(&mut self, models: Vec<LiveHealth>) {
        if self.header.status == JobStatus::Planning && self.spec.live != models {
            self.spec.live = models;
            self.spec_dirty = true;
        }
    }

    fn plan(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        let memory = self.spec.memory.clone().unwrap_or_default();
        // Routing sees the models in service now, with the latencies every job observed lately.
        let registry = live::with_observed_latency(
            registry_doc::serving(&self.spec.registry, now),
            &self.spec.live,
        );
        let brief = &self.spec.brief;
        // What one call makes at most (in the master's shape, which the audience may choose)
        // decides how long shots and scores are split.
        let options = plan_options_for(
            &registry,
            brief,
            memory.audience.as_ref(),
            Some(&self.spec.creator),
            self.spec.paid_tier,
        );
        let plan = plan::build(brief, &memory, options);
        let split = ra_notes::split_notes(&plan.stages);
        let watch = crate::memory::watch_pacing_note(brief, &memory);
        // Now that the Graph answered, pacing is measured against the creator's own format.
        let warnings = pacing_warnings_for(brief, memory.format_dna.as_ref());
        let elapsed_s = now.since(self.spec.created_at).as_secs_f64();
        let ctx = RoutingContext {
            creator: self.spec.creator.clone(),
            outcome_target: brief.outcome_target,
            budget_usd: brief.budget_usd,
            deadline_s: (brief.deadline_s as f64 - elapsed_s).max(1.0),
            memory,
        };
        if warnings != self.spec.warnings {
            self.spec.warnings = warnings;
            self.spec_dirty = true;
        }
        let requests: Vec<StageRequest> = plan.stages.iter().map(|s| s.routing_request()).collect();
        let mut routed = match route_plan(&registry, &requests, &ctx) {
            Ok(r) => r,
            Err(e) => return self.fail_job(now, format!("planning failed: {e}"), fx),
        };
        match &routed.deadline {
            DeadlineCheck::Fits { .. } => {}
            DeadlineCheck::FitsAfterSpeedUp { after, .. } => {
                let (projected, deadline) = (
                    after.projected_ms() as f64 / 1000.0,
                    after.deadline_ms as f64 / 1000.0,
                );
                self.header.notes.push(format!(
                    "faster models chosen among near-ties to meet the deadline: projected {projected:.0} s of {deadline:.0} s"
                ));
                self.say(ra_notes::deadline_speed_up(projected, deadline));
            }
            DeadlineCheck::Misses { after, .. } => {
                let (projected, deadline) = (
                    after.projected_ms() as f64 / 1000.0,
                    after.deadline_ms as f64 / 1000.0,
                );
                self.header.notes.push(format!(
                    "projected to miss the deadline: {projected:.0} s against {deadline:.0} s"
                ));
                self.say(ra_notes::deadline_miss(projected, deadline));
            }
        }
        for note in split {
            self.say(note);
        }
        watch.into_iter().for_each(|note| self.say(note));
        let mut rows = Vec::with_capacity(plan.stages.len());
        let mut roots: Vec<u32> = Vec::new();
        let mut total_floor = Micros::ZERO;
        for decision in &mut routed.decisions {
            live::demote_open_breakers(decision, &self.spec.live);
        }
        for (spec, decision) in plan.stages.into_iter().zip(routed.decisions) {
            if decision.stage != spec.id {
                let reason = format!(
                    "planning failed: routing answered for {} in place of {}",
                    decision.stage, spec.id
                );
                return self.fail_job(now, reason, fx);
            }
            let floor = decision
                .candidates
                .iter()
                .filter_map(|c| self.spec.registry.get(&c.model))
                .map(|m| Micros::from_usd(m.cost_usd(spec.duration_s, spec.chars())))
                .min();
            let Some(floor) = floor else {
                let reason = format!(
                    "planning failed: no model of registry v{} can run {}",
                    self.spec.registry.version, spec.id
                );
                return self.fail_job(now, reason, fx);
            };
            total_floor = total_floor.plus(floor);
            if spec.deps.is_empty() {
                roots.push(spec.order);
            }
            let row = StageRow {
                decision,
                floor,
                cursor: 0,
                failures_on_model: 0,
                refused: Vec::new(),
                attempt: Attempt(0),
                state: StageState::Blocked,
                attempts: Vec::new(),
                committed: Micros::ZERO,
                spent: Micros::ZERO,
                started_at: None,
                seen_deliveries: Vec::new(),
                spec,
            };
            rows.push(row);
        }
        if total_floor > self.header.budget {
            let reason = format!(
                "over budget before starting: the cheapest models for this plan cost {total_floor}, the budget is {}",
                self.header.budget
            );
            return self.fail_job(now, reason, fx);
        }
        self.header.counts.total = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        self.header.outstanding_floor = total_floor;
        self.positions = rows
            .iter()
            .map(|r| (r.spec.id.clone(), r.spec.order))
            .collect();
        self.dirty.extend(rows.iter().map(|r| r.spec.order));
        self.rows = rows;
        self.idx = Index::rebuild(&self.header, &self.rows, &self.positions);
        self.set_status(now, JobStatus::Rendering, None, fx);
        for i in roots {
            self.make_ready(now, i, fx);
        }
    }
}
