//! Closed sets of billing, each with one `as_str`/`parse` pair matching the stored and wire
//! format, and the payment state machine.

use std::fmt;

/// Plan codes. Legacy names (`MONTHLY`, `YEARLY`) parse to the PRO codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanCode {
    Free,
    ProMonthly,
    ProYearly,
    TestLive,
}

impl PlanCode {
    pub const ALL: [PlanCode; 4] = [
        PlanCode::Free,
        PlanCode::ProMonthly,
        PlanCode::ProYearly,
        PlanCode::TestLive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanCode::Free => "FREE",
            PlanCode::ProMonthly => "PRO_MONTHLY",
            PlanCode::ProYearly => "PRO_YEARLY",
            PlanCode::TestLive => "TEST_LIVE",
        }
    }

    /// Case-insensitive; accepts the legacy `MONTHLY`/`YEARLY`.
    pub fn parse(s: &str) -> Option<PlanCode> {
        let up = s.trim().to_ascii_uppercase();
        match up.as_str() {
            "MONTHLY" => Some(PlanCode::ProMonthly),
            "YEARLY" => Some(PlanCode::ProYearly),
            other => PlanCode::ALL.into_iter().find(|c| c.as_str() == other),
        }
    }
}

impl fmt::Display for PlanCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a payment exists (B1, B3: each has its own success branch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentPurpose {
    Purchase,
    Renewal,
    CardBinding,
    AdminTest,
}

impl PaymentPurpose {
    pub const ALL: [PaymentPurpose; 4] = [
        PaymentPurpose::Purchase,
        PaymentPurpose::Renewal,
        PaymentPurpose::CardBinding,
        PaymentPurpose::AdminTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentPurpose::Purchase => "purchase",
            PaymentPurpose::Renewal => "renewal",
            PaymentPurpose::CardBinding => "card_binding",
            PaymentPurpose::AdminTest => "admin_test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether a success of this purpose extends the subscription.
    pub fn extends_subscription(self) -> bool {
        matches!(self, PaymentPurpose::Purchase | PaymentPurpose::Renewal)
    }
}

/// Local payment states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    Pending,
    WaitingForCapture,
    Succeeded,
    Canceled,
    /// Never reached the provider, or the provider refused to create it.
    Failed,
    Refunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Pending,
        PaymentStatus::WaitingForCapture,
        PaymentStatus::Succeeded,
        PaymentStatus::Canceled,
        PaymentStatus::Failed,
        PaymentStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::WaitingForCapture => "waiting_for_capture",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Canceled => "canceled",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The status shown in `/payments/` (lower-case; waiting-for-capture reads as pending).
    pub fn public(self) -> &'static str {
        match self {
            PaymentStatus::WaitingForCapture => "pending",
            other => other.as_str(),
        }
    }
}

/// What YooKassa reports for a payment (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderStatus {
    Pending,
    WaitingForCapture,
    Succeeded,
    Canceled,
}

impl ProviderStatus {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(ProviderStatus::Pending),
            "waiting_for_capture" => Some(ProviderStatus::WaitingForCapture),
            "succeeded" => Some(ProviderStatus::Succeeded),
            "canceled" => Some(ProviderStatus::Canceled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderStatus::Pending => "pending",
            ProviderStatus::WaitingForCapture => "waiting_for_capture",
            ProviderStatus::Succeeded => "succeeded",
            ProviderStatus::Canceled => "canceled",
        }
    }
}

/// What to do with a local payment given the provider's verified status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Move to `to`; `alert` when money arrived for a payment we had given up on (B7).
    Move { to: PaymentStatus, alert: bool },
    /// Already there, or a final state the provider cannot change: nothing to do.
    Stay,
}

/// The payment state machine: (local status, provider status) → transition. Pure; applied in
/// the database by compare-and-set on the old status.
pub fn transition(local: PaymentStatus, provider: ProviderStatus) -> Transition {
    use PaymentStatus as L;
    use ProviderStatus as P;
    match (local, provider) {
        (L::Pending | L::WaitingForCapture, P::Succeeded) => Transition::Move {
            to: L::Succeeded,
            alert: false,
        },
        // The provider took the money after we cancelled or failed the row locally.
        (L::Canceled | L::Failed, P::Succeeded) => Transition::Move {
            to: L::Succeeded,
            alert: true,
        },
        (L::Pending | L::WaitingForCapture | L::Failed, P::Canceled) => Transition::Move {
            to: L::Canceled,
            alert: false,
        },
        (L::Pending, P::WaitingForCapture) => Transition::Move {
            to: L::WaitingForCapture,
            alert: false,
        },
        (L::Succeeded | L::Refunded | L::Canceled, _)
        | (L::Pending | L::Failed, P::Pending)
        | (L::WaitingForCapture, P::Pending | P::WaitingForCapture)
        | (L::Failed, P::WaitingForCapture) => Transition::Stay,
    }
}

/// Cancellation reasons after which the saved card is useless (cleared, auto-renew off).
pub fn is_permanent_decline(reason: &str) -> bool {
    matches!(
        reason,
        "card_expired" | "permission_revoked" | "payment_method_restricted"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_legacy_names_map_to_pro() {
        for c in PlanCode::ALL {
            assert_eq!(PlanCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(PlanCode::parse("MONTHLY"), Some(PlanCode::ProMonthly));
        assert_eq!(PlanCode::parse("yearly"), Some(PlanCode::ProYearly));
        assert_eq!(PlanCode::parse("GOLD"), None);
        for p in PaymentPurpose::ALL {
            assert_eq!(PaymentPurpose::parse(p.as_str()), Some(p));
        }
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn the_state_machine_is_total_and_final_states_stay() {
        use PaymentStatus as L;
        use ProviderStatus as P;
        let providers = [P::Pending, P::WaitingForCapture, P::Succeeded, P::Canceled];
        for l in PaymentStatus::ALL {
            for p in providers {
                let t = transition(l, p);
                if matches!(l, L::Succeeded | L::Refunded) {
                    assert_eq!(t, Transition::Stay, "{l:?} {p:?}");
                }
                if let Transition::Move { to, .. } = t {
                    assert_ne!(to, l, "a move changes the state");
                }
            }
        }
        assert_eq!(
            transition(L::Canceled, P::Succeeded),
            Transition::Move {
                to: L::Succeeded,
                alert: true
            }
        );
        assert_eq!(transition(L::Pending, P::Pending), Transition::Stay);
    }
}
