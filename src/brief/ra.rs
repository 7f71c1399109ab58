//! Ra's voice: every note the creator reads about a job is from Ra and addressed to the
//! creator as "Director".
//!
//! Ra is the creative lead with taste and opinions; the creator is the Director. A note is brief
//! and concrete, says what Ra saw and what Ra would do, and never names a model, a provider, a
//! provider's task id, a flag or a rollout bucket (support's view keeps those; the creator's
//! view and events are checked against the registry's full list of model ids and provider
//! names). Example: "Director, shot 4 gives the line 1.2 s. It will feel rushed; I'd give it 3 s."
//!
//! How to write one (from any module of the core):
//!
//! ```
//! use studio::brief::ra::{self, NoteTopic, RaNote};
//! use studio::ids::ShotId;
//!
//! // A note on the job, e.g. a next choice, a budget trade-off, a split, a chosen voice:
//! let n = RaNote::new(NoteTopic::Split, "shot s04 runs 14 s, longer than one take; I'll cut it in two.")
//!     .on_shot(ShotId::from("s04"));
//! assert_eq!(n.from, "Ra");
//! assert!(n.text.starts_with("Director, shot s04"));
//!
//! // A pacing note on the brief (what `pacing_warnings` returns), naming the field it is about:
//! let w = ra::pacing("shots[3].duration_s", Some(&ShotId::from("s04")), "shot s04 gives the line 1.2 s. It will feel rushed; I'd give it 3 s.");
//! assert_eq!(w.from, "Ra");
//! assert!(w.message.starts_with("Director, "));
//!
//! // Just the sentence, where a note is still a plain string:
//! assert_eq!(ra::say("I'd hold the close-up longer."), "Director, I'd hold the close-up longer.");
//! ```
//!
//! Write the body as it reads after "Director, " (lower case unless it starts with a name or
//! "I"); [`say`] adds the address once and never twice.
//!
//! Inside a step of the job (`src/job`), `self.say(note)` keeps a [`RaNote`] on the job
//! (`JobHeader::said`, see `job::ra_notes`): the creator's view lists it in `notes`, its event
//! stream sends it as `event: note`, and the support view shows it in `said`. Pacing notes on
//! the brief are [`PacingWarning`]s made with [`pacing`]; the creator's view lists them first.

use serde::{Deserialize, Serialize};

use crate::ids::ShotId;

/// A note from Ra about the pacing of the shot list
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PacingWarning {
    /// Always [`RA`] ("Ra"): the creator reads these as Ra's notes to the Director
    pub from: String,
    /// The field the note is about (`shots[0].duration_s`, `pacing.target_duration_s`)
    pub field: String,
    /// The shot, when the note is about one
    pub shot: Option<ShotId>,
    /// The note, in Ra's voice, opening with "Director, "
    pub message: String,
}

/// Who every creator-visible note is from
pub const RA: &str = "Ra";
/// How Ra addresses the creator
pub const DIRECTOR: &str = "Director";

/// `body` addressed to the Director: `"Director, {body}"`; a body that already addresses the
/// Director is returned as it is, so a note passed through twice is not addressed twice
pub fn say(body: &str) -> String {
    let body = body.trim();
    if is_addressed(body) {
        body.to_owned()
    } else {
        format!("{DIRECTOR}, {body}")
    }
}

/// Whether `text` already opens by addressing the Director
pub fn is_addressed(text: &str) -> bool {
    text.strip_prefix(DIRECTOR)
        .is_some_and(|rest| rest.starts_with(','))
}

/// A pacing note on the brief from Ra: `field` is the brief field it is about
/// (`shots[3].duration_s`, `pacing.target_duration_s`), `shot` the shot when it is about one
pub fn pacing(field: impl Into<String>, shot: Option<&ShotId>, body: &str) -> PacingWarning {
    PacingWarning {
        from: RA.to_owned(),
        field: field.into(),
        shot: shot.cloned(),
        message: say(body),
    }
}

/// What a note from Ra is about, so an app can group or style them
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoteTopic {
    /// Timing push-back on the shot list
    Pacing,
    /// Ra moved a stage to its next choice after the first one failed or refused (named so
    /// that no topic contains a provider's name as a substring)
    NextChoice,
    /// A trade made to keep the render inside the budget
    Budget,
    /// A trade made to meet the deadline, or a warning that it will be missed
    Deadline,
    /// A long shot or score cut into parts, one call each
    Split,
    /// The voice Ra chose for a speaker
    Voice,
    /// A retry the Director should know about
    Retry,
    /// What Ra knew (or did not) of the creator's past work when planning
    Context,
    /// Something support did on the job, in plain words
    Support,
}

/// One note on a job from Ra to the Director
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RaNote {
    /// Always "Ra"
    pub from: String,
    /// What it is about
    pub topic: NoteTopic,
    /// The shot, when the note is about one
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shot: Option<ShotId>,
    /// The note, opening with "Director, "
    pub text: String,
}

impl RaNote {
    /// A note from Ra about `topic`; `body` reads after "Director, " (see [`say`])
    pub fn new(topic: NoteTopic, body: &str) -> Self {
        Self {
            from: RA.to_owned(),
            topic,
            shot: None,
            text: say(body),
        }
    }

    /// The same note, about `shot`
    pub fn on_shot(mut self, shot: ShotId) -> Self {
        self.shot = Some(shot);
        self
    }

    /// A pacing note on the brief as a job note (the creator's view lists both together)
    pub fn from_pacing(w: &PacingWarning) -> Self {
        Self {
            from: RA.to_owned(),
            topic: NoteTopic::Pacing,
            shot: w.shot.clone(),
            text: say(&w.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_the_director_once() {
        assert_eq!(say("I'd cut here."), "Director, I'd cut here.");
        assert_eq!(say("Director, I'd cut here."), "Director, I'd cut here.");
        assert_eq!(say("Directors cut"), "Director, Directors cut");
    }

    #[test]
    fn notes_are_from_ra() {
        let n = RaNote::new(NoteTopic::NextChoice, "shot s01 moved to my second choice.");
        assert_eq!(n.from, RA);
        assert!(n.text.starts_with("Director, shot s01"));
    }
}
