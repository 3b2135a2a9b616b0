//! State machines: a photo's recognition status, and the meal status derived from its photos
//! (finalisation, §3.6). Applied in the database by compare-and-set on the old status.

use std::fmt;

use super::enums::{MealStatus, PhotoStatus};

/// Something that happens to a photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhotoEvent {
    /// A worker claims the photo (PENDING → PROCESSING). Also accepted on PROCESSING, so that a
    /// job re-run after an expired lease can continue (handlers are idempotent).
    Start,
    /// Recognition finished with items (PROCESSING → SUCCESS).
    Succeed,
    /// Recognition failed, or the reaper gave up on it (PENDING|PROCESSING → FAILED).
    Fail,
    /// The user cancelled (PENDING|PROCESSING → CANCELLED).
    Cancel,
}

impl PhotoEvent {
    /// Every event.
    pub const ALL: &'static [Self] = &[Self::Start, Self::Succeed, Self::Fail, Self::Cancel];

    /// Lower-case name for logs and error details.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Succeed => "succeed",
            Self::Fail => "fail",
            Self::Cancel => "cancel",
        }
    }
}

/// An event that the current status does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub struct InvalidTransition {
    /// The status the photo was in.
    pub from: PhotoStatus,
    /// The refused event.
    pub event: PhotoEvent,
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "photo in status {} cannot {}",
            self.from,
            self.event.as_str()
        )
    }
}

/// The photo status after `event`.
///
/// ```text
/// PENDING    --Start-->   PROCESSING     PROCESSING --Start-->   PROCESSING (re-claim)
/// PENDING    --Fail-->    FAILED         PROCESSING --Succeed--> SUCCESS
/// PENDING    --Cancel-->  CANCELLED      PROCESSING --Fail-->    FAILED
///                                        PROCESSING --Cancel-->  CANCELLED
/// ```
/// SUCCESS, FAILED and CANCELLED are terminal: they accept no event (a late result loses to
/// an earlier cancel; a retry is a new photo).
///
/// # Errors
/// [`InvalidTransition`] for every other pair.
pub fn photo_transition(
    from: PhotoStatus,
    event: PhotoEvent,
) -> Result<PhotoStatus, InvalidTransition> {
    use PhotoEvent as E;
    use PhotoStatus as S;
    match (from, event) {
        (S::Pending | S::Processing, E::Start) => Ok(S::Processing),
        (S::Processing, E::Succeed) => Ok(S::Success),
        (S::Pending | S::Processing, E::Fail) => Ok(S::Failed),
        (S::Pending | S::Processing, E::Cancel) => Ok(S::Cancelled),
        (S::Pending, E::Succeed) | (S::Success | S::Failed | S::Cancelled, _) => {
            Err(InvalidTransition { from, event })
        }
    }
}

/// What to do with a meal after one of its photos changed (§3.6 finalisation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MealOutcome {
    /// The meal has no photos left: delete it.
    Delete,
    /// Some photo is PENDING or PROCESSING.
    Processing,
    /// All photos terminal, at least one SUCCESS.
    Complete,
    /// All photos terminal, none SUCCESS.
    Failed,
}

impl MealOutcome {
    /// The meal status to store, or `None` for [`MealOutcome::Delete`].
    #[must_use]
    pub const fn status(self) -> Option<MealStatus> {
        match self {
            Self::Delete => None,
            Self::Processing => Some(MealStatus::Processing),
            Self::Complete => Some(MealStatus::Complete),
            Self::Failed => Some(MealStatus::Failed),
        }
    }
}

/// Finalises a meal from the statuses of **all** its photos. Only for meals that had photos
/// (photo-logged meals); a manual meal without photos must not be finalised.
#[must_use]
pub fn finalize_meal<I>(photo_statuses: I) -> MealOutcome
where
    I: IntoIterator<Item = PhotoStatus>,
{
    let mut any = false;
    let mut success = false;
    for status in photo_statuses {
        any = true;
        match status {
            PhotoStatus::Pending | PhotoStatus::Processing => return MealOutcome::Processing,
            PhotoStatus::Success => success = true,
            PhotoStatus::Failed | PhotoStatus::Cancelled => {}
        }
    }
    match (any, success) {
        (false, _) => MealOutcome::Delete,
        (true, true) => MealOutcome::Complete,
        (true, false) => MealOutcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PhotoEvent as E;
    use PhotoStatus as S;
    use proptest::prelude::*;

    #[test]
    fn photo_transitions_exhaustive() {
        let expected = |from: S, event: E| -> Option<S> {
            match (from, event) {
                (S::Pending, E::Start) => Some(S::Processing),
                (S::Pending, E::Succeed) => None,
                (S::Pending, E::Fail) => Some(S::Failed),
                (S::Pending, E::Cancel) => Some(S::Cancelled),
                (S::Processing, E::Start) => Some(S::Processing),
                (S::Processing, E::Succeed) => Some(S::Success),
                (S::Processing, E::Fail) => Some(S::Failed),
                (S::Processing, E::Cancel) => Some(S::Cancelled),
                (S::Success | S::Failed | S::Cancelled, _) => None,
            }
        };
        let mut checked = 0;
        for &from in S::ALL {
            for &event in E::ALL {
                let got = photo_transition(from, event);
                match expected(from, event) {
                    Some(to) => assert_eq!(got, Ok(to), "{from} + {event:?}"),
                    None => assert_eq!(
                        got,
                        Err(InvalidTransition { from, event }),
                        "{from} + {event:?}"
                    ),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 20);
    }

    #[test]
    fn terminal_states_absorb_nothing() {
        for &from in S::ALL.iter().filter(|s| s.is_terminal()) {
            for &event in E::ALL {
                assert!(photo_transition(from, event).is_err());
            }
        }
    }

    #[test]
    fn late_result_loses_to_an_earlier_cancel() {
        let cancelled = photo_transition(S::Processing, E::Cancel).unwrap();
        let err = photo_transition(cancelled, E::Succeed).unwrap_err();
        assert_eq!(err.to_string(), "photo in status CANCELLED cannot succeed");
    }

    #[test]
    fn finalisation_table() {
        assert_eq!(finalize_meal([]), MealOutcome::Delete);
        assert_eq!(finalize_meal([S::Pending]), MealOutcome::Processing);
        assert_eq!(
            finalize_meal([S::Success, S::Processing]),
            MealOutcome::Processing
        );
        assert_eq!(
            finalize_meal([S::Failed, S::Pending, S::Success]),
            MealOutcome::Processing
        );
        assert_eq!(finalize_meal([S::Success]), MealOutcome::Complete);
        // Scenario A of the original tests: 1 SUCCESS + 2 CANCELLED.
        assert_eq!(
            finalize_meal([S::Success, S::Cancelled, S::Cancelled]),
            MealOutcome::Complete
        );
        // Scenario B: all cancelled.
        assert_eq!(finalize_meal([S::Cancelled; 3]), MealOutcome::Failed);
        assert_eq!(
            finalize_meal([S::Failed, S::Cancelled]),
            MealOutcome::Failed
        );
        assert_eq!(MealOutcome::Delete.status(), None);
        assert_eq!(
            MealOutcome::Processing.status(),
            Some(MealStatus::Processing)
        );
        assert_eq!(MealOutcome::Complete.status(), Some(MealStatus::Complete));
        assert_eq!(MealOutcome::Failed.status(), Some(MealStatus::Failed));
    }

    fn any_status() -> impl Strategy<Value = S> {
        proptest::sample::select(S::ALL)
    }

    proptest! {
        #[test]
        fn finalisation_matches_its_definition(statuses in proptest::collection::vec(any_status(), 0..8)) {
            let outcome = finalize_meal(statuses.iter().copied());
            let expected = if statuses.is_empty() {
                MealOutcome::Delete
            } else if statuses.iter().any(|s| !s.is_terminal()) {
                MealOutcome::Processing
            } else if statuses.contains(&S::Success) {
                MealOutcome::Complete
            } else {
                MealOutcome::Failed
            };
            prop_assert_eq!(outcome, expected);
            // Order does not matter.
            let reversed: Vec<S> = statuses.iter().rev().copied().collect();
            prop_assert_eq!(finalize_meal(reversed), outcome);
        }

        #[test]
        fn status_only_moves_forward(events in proptest::collection::vec(proptest::sample::select(E::ALL), 0..10)) {
            // Applying events (ignoring refused ones) never leaves a terminal state, and the
            // status only moves forward.
            let rank = |s: S| match s { S::Pending => 0, S::Processing => 1, _ => 2 };
            let mut status = S::Pending;
            for event in events {
                if let Ok(next) = photo_transition(status, event) {
                    prop_assert!(rank(next) >= rank(status));
                    prop_assert!(!status.is_terminal());
                    status = next;
                }
            }
        }
    }
}
