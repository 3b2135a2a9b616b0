//! The food-gate decision table (reference/ai-pipeline.md §5.4), as pure functions.
//!
//! | gate reply                                   | decision          | with items | without items  |
//! |----------------------------------------------|-------------------|------------|----------------|
//! | `is_food` missing / unparseable              | `ParseError`      | GATE_ERROR | GATE_ERROR     |
//! | `is_food == false`, or confidence < `min`     | `NotFood`         | UNSUPPORTED_CONTENT | UNSUPPORTED_CONTENT |
//! | `min` ≤ confidence < `med`                    | `LowConfidence`   | success    | LOW_CONFIDENCE |
//! | confidence ≥ `med`                            | `Food`            | success    | EMPTY_RESULT   |
//!
//! A missing or non-finite confidence counts as 0; values are clamped to `0..=1`. "Without
//! items" means no item survived the sanity checks of [`crate::grounding`]. Defaults: `min`
//! 0.25, `med` 0.55 (`FOOD_GATE_MIN_THRESHOLD`, `FOOD_GATE_MED_THRESHOLD`).

use domain::error::AiErrorCode;

/// The two confidence cuts of the gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    min: f64,
    med: f64,
}

/// Invalid thresholds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("food gate thresholds must satisfy 0 <= min < med <= 1 (got min {min}, med {med})")]
pub struct InvalidThresholds {
    /// The given `min`.
    pub min: f64,
    /// The given `med`.
    pub med: f64,
}

impl Thresholds {
    /// The original's cuts: not food < 0.25 ≤ low confidence < 0.55.
    pub const DEFAULT: Thresholds = Thresholds {
        min: 0.25,
        med: 0.55,
    };

    /// Validated thresholds: `0 <= min < med <= 1`.
    pub fn new(min: f64, med: f64) -> Result<Self, InvalidThresholds> {
        if min.is_finite()
            && med.is_finite()
            && (0.0..=1.0).contains(&min)
            && med <= 1.0
            && min < med
        {
            Ok(Self { min, med })
        } else {
            Err(InvalidThresholds { min, med })
        }
    }

    /// Below this the photo is "not food".
    #[must_use]
    pub fn min(&self) -> f64 {
        self.min
    }

    /// Below this (and at or above `min`) the photo is "low confidence".
    #[must_use]
    pub fn med(&self) -> f64 {
        self.med
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GateDecision {
    /// The gate's reply could not be understood (`is_food` missing).
    ParseError,
    /// Not food, or too unsure to call it food.
    NotFood,
    /// Possibly food: recognition runs, an empty result is `LOW_CONFIDENCE`.
    LowConfidence,
    /// Food.
    Food,
}

impl GateDecision {
    /// Label for `aiproxy_gate_decisions_total{decision}`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            GateDecision::ParseError => "parse_error",
            GateDecision::NotFood => "not_food",
            GateDecision::LowConfidence => "low_confidence",
            GateDecision::Food => "food",
        }
    }

    /// Whether recognition should run (or its items be used) at all.
    #[must_use]
    pub fn proceeds(self) -> bool {
        matches!(self, GateDecision::LowConfidence | GateDecision::Food)
    }

    /// The error code when the gate alone ends the request.
    #[must_use]
    pub fn rejection(self) -> Option<AiErrorCode> {
        match self {
            GateDecision::ParseError => Some(AiErrorCode::GateError),
            GateDecision::NotFood => Some(AiErrorCode::UnsupportedContent),
            GateDecision::LowConfidence | GateDecision::Food => None,
        }
    }
}

/// A confidence as the gate uses it: missing or non-finite → 0, clamped to `0..=1`.
#[must_use]
pub fn effective_confidence(confidence: Option<f64>) -> f64 {
    match confidence {
        Some(c) if c.is_finite() => c.clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// The gate's decision from its reply.
#[must_use]
pub fn gate(is_food: Option<bool>, confidence: Option<f64>, t: &Thresholds) -> GateDecision {
    let Some(is_food) = is_food else {
        return GateDecision::ParseError;
    };
    let c = effective_confidence(confidence);
    if !is_food || c < t.min {
        GateDecision::NotFood
    } else if c < t.med {
        GateDecision::LowConfidence
    } else {
        GateDecision::Food
    }
}

/// The final outcome: the (checked) items, or the catalogue code to answer with.
pub fn decide<T>(gate: GateDecision, items: Vec<T>) -> Result<Vec<T>, AiErrorCode> {
    if let Some(code) = gate.rejection() {
        return Err(code);
    }
    if items.is_empty() {
        return Err(match gate {
            GateDecision::LowConfidence => AiErrorCode::LowConfidence,
            _ => AiErrorCode::EmptyResult,
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AiErrorCode as E;
    use GateDecision as G;

    const T: Thresholds = Thresholds::DEFAULT;

    #[test]
    fn band_edges_match_the_original() {
        assert_eq!(gate(Some(true), Some(0.24), &T), G::NotFood);
        assert_eq!(gate(Some(true), Some(0.25), &T), G::LowConfidence);
        assert_eq!(gate(Some(true), Some(0.549), &T), G::LowConfidence);
        assert_eq!(gate(Some(true), Some(0.55), &T), G::Food);
        assert_eq!(gate(Some(true), Some(1.0), &T), G::Food);
        assert_eq!(gate(Some(false), Some(0.9), &T), G::NotFood);
        assert_eq!(gate(None, Some(0.9), &T), G::ParseError);
        assert_eq!(gate(None, None, &T), G::ParseError);
    }

    #[test]
    fn odd_confidences_are_normalised() {
        assert_eq!(gate(Some(true), None, &T), G::NotFood);
        assert_eq!(gate(Some(true), Some(f64::NAN), &T), G::NotFood);
        assert_eq!(gate(Some(true), Some(f64::INFINITY), &T), G::NotFood);
        assert_eq!(gate(Some(true), Some(-1.0), &T), G::NotFood);
        assert_eq!(gate(Some(true), Some(7.0), &T), G::Food);
    }

    #[test]
    fn exhaustive_table() {
        let cases = [
            (None, 0.9, true, Err(E::GateError)),
            (None, 0.9, false, Err(E::GateError)),
            (Some(false), 0.9, true, Err(E::UnsupportedContent)),
            (Some(false), 0.1, false, Err(E::UnsupportedContent)),
            (Some(true), 0.1, true, Err(E::UnsupportedContent)),
            (Some(true), 0.1, false, Err(E::UnsupportedContent)),
            (Some(true), 0.3, true, Ok(1)),
            (Some(true), 0.3, false, Err(E::LowConfidence)),
            (Some(true), 0.8, true, Ok(1)),
            (Some(true), 0.8, false, Err(E::EmptyResult)),
        ];
        for (is_food, c, has_items, want) in cases {
            let g = gate(is_food, Some(c), &T);
            let items = if has_items { vec![()] } else { vec![] };
            let got = decide(g, items).map(|v| v.len());
            assert_eq!(got, want, "{is_food:?} {c} {has_items}");
        }
    }

    #[test]
    fn every_decision_has_a_label_and_consistent_rejection() {
        for g in [G::ParseError, G::NotFood, G::LowConfidence, G::Food] {
            assert!(!g.as_str().is_empty());
            assert_eq!(g.proceeds(), g.rejection().is_none());
        }
    }

    #[test]
    fn thresholds_are_validated_and_configurable() {
        assert!(Thresholds::new(0.25, 0.55).is_ok());
        assert!(Thresholds::new(0.0, 1.0).is_ok());
        assert!(Thresholds::new(0.55, 0.25).is_err());
        assert!(Thresholds::new(0.5, 0.5).is_err());
        assert!(Thresholds::new(-0.1, 0.5).is_err());
        assert!(Thresholds::new(0.1, 1.5).is_err());
        assert!(Thresholds::new(f64::NAN, 0.5).is_err());
        let t = Thresholds::new(0.4, 0.7).unwrap();
        assert_eq!(gate(Some(true), Some(0.35), &t), G::NotFood);
        assert_eq!(gate(Some(true), Some(0.6), &t), G::LowConfidence);
        assert_eq!(gate(Some(true), Some(0.7), &t), G::Food);
    }
}
