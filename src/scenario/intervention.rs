//! Interventions: what a scenario changes, for whom and when.

use super::segment::Segment;

/// The change itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Prices change by `percent` (in `channel`, or everywhere).
    PriceChange {
        /// Price change in percent (+8 = 8% dearer).
        percent: f64,
        /// Channel, or all channels.
        channel: Option<String>,
    },
    /// A channel opens.
    NewChannel {
        /// Its name.
        name: String,
        /// Preference weight relative to an average existing channel.
        attractiveness: f64,
        /// Relative increase of purchase rate for twins who can use it (access).
        access_uplift: f64,
        /// Cost to serve a purchase there.
        cost_to_serve: f64,
        /// Probability of a bad experience there.
        bad_experience: f64,
    },
    /// A channel closes; its purchases move to the others.
    CloseChannel {
        /// The channel.
        channel: String,
    },
    /// Service quality changes.
    ServiceQuality {
        /// Channel, or all channels.
        channel: Option<String>,
        /// New probability that a purchase is a bad experience.
        bad_experience: f64,
    },
    /// Referrals are rewarded.
    ReferralProgramme {
        /// Multiplier of the referral probability.
        multiplier: f64,
        /// Cost per successful referral.
        reward_cost: f64,
    },
    /// A retention offer lowers dropout.
    RetentionOffer {
        /// Multiplier of the dropout probability (or rate).
        dropout_multiplier: f64,
        /// Cost per targeted active twin per day.
        cost: f64,
    },
    /// The purchase rate itself changes (a demand shock or campaign; the reference workload's
    /// "price" lever, which moves λ and not the amounts).
    PurchaseRate {
        /// Multiplier of λ.
        multiplier: f64,
    },
    /// Marketing raises external acquisition.
    MarketingPush {
        /// Multiplier of the Bass innovation coefficient p_B.
        p_multiplier: f64,
        /// Cost per day.
        cost: f64,
    },
}

/// One `[[intervention]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Intervention {
    /// What changes.
    pub kind: Kind,
    /// First day it applies.
    pub start_day: u32,
    /// First day it no longer applies (open-ended when `None`).
    pub end_day: Option<u32>,
    /// Who it applies to.
    pub segment: Segment,
    /// Pilot first: until `full_from_day` only the pilot segment gets it.
    pub rollout: Option<Rollout>,
    /// Byte offsets in the scenario file of the table and of its segment, and its 1-based
    /// position among the `[[intervention]]` tables, for messages.
    pub at: (usize, usize, usize),
}

/// Pilot-then-rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// Who gets it during the pilot.
    pub pilot: Segment,
    /// From this day on, the whole `segment` gets it.
    pub full_from_day: u32,
}

impl Intervention {
    /// Whether it applies on `day` to a twin in (`in_segment`, `in_pilot`).
    #[inline]
    pub fn applies(&self, day: u32, in_segment: bool, in_pilot: bool) -> bool {
        if day < self.start_day || self.end_day.is_some_and(|e| day >= e) {
            return false;
        }
        match &self.rollout {
            Some(r) if day < r.full_from_day => in_pilot,
            _ => in_segment,
        }
    }

    /// Days on which it switches on or off for someone.
    pub fn breakpoints(&self) -> Vec<u32> {
        let mut v = vec![self.start_day];
        v.extend(self.end_day);
        v.extend(self.rollout.as_ref().map(|r| r.full_from_day));
        v
    }
}

/// A parameter of an intervention kind, for parsing and for the README reference table.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Key in the scenario file.
    pub name: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// Meaning and default.
    pub meaning: &'static str,
}

/// Intervention kinds and their parameters (besides the common `start_day`, `end_day`,
/// `segment`, `rollout`).
pub const KINDS: &[(&str, &str, &[Param])] = &[
    (
        "price_change",
        "prices change from start_day",
        &[
            Param {
                name: "percent",
                required: true,
                meaning: "price change in percent, e.g. 8 or -5",
            },
            Param {
                name: "channel",
                required: false,
                meaning: "channel whose prices change (default: all)",
            },
        ],
    ),
    (
        "new_channel",
        "a channel opens",
        &[
            Param {
                name: "name",
                required: true,
                meaning: "channel name",
            },
            Param {
                name: "attractiveness",
                required: false,
                meaning: "preference weight relative to an average existing channel (default 1)",
            },
            Param {
                name: "access_uplift",
                required: false,
                meaning: "relative rise of the purchase rate of twins who get it (default 0)",
            },
            Param {
                name: "cost_to_serve",
                required: false,
                meaning: "cost per purchase there (default 1)",
            },
            Param {
                name: "bad_experience",
                required: false,
                meaning: "probability that a purchase there goes badly (default 0.05)",
            },
        ],
    ),
    (
        "close_channel",
        "a channel closes; its share moves to the others",
        &[Param {
            name: "channel",
            required: true,
            meaning: "channel to close",
        }],
    ),
    (
        "service_quality",
        "service quality changes",
        &[
            Param {
                name: "bad_experience",
                required: true,
                meaning: "probability that a purchase goes badly",
            },
            Param {
                name: "channel",
                required: false,
                meaning: "channel concerned (default: all)",
            },
        ],
    ),
    (
        "referral_programme",
        "referrals are rewarded",
        &[
            Param {
                name: "multiplier",
                required: true,
                meaning: "multiplier of each twin's referral probability",
            },
            Param {
                name: "reward_cost",
                required: false,
                meaning: "cost per referred customer won (default 0)",
            },
        ],
    ),
    (
        "retention_offer",
        "an offer lowers dropout",
        &[
            Param {
                name: "dropout_multiplier",
                required: true,
                meaning: "multiplier of the dropout probability (BG/NBD) or rate (Pareto/NBD), e.g. 0.7",
            },
            Param {
                name: "cost",
                required: false,
                meaning: "cost per targeted active customer per day (default 0)",
            },
        ],
    ),
    (
        "purchase_rate",
        "the purchase rate λ changes, amounts unchanged (a demand shock; no price is involved)",
        &[Param {
            name: "multiplier",
            required: true,
            meaning: "multiplier of each twin's purchase rate, e.g. 0.9",
        }],
    ),
    (
        "marketing_push",
        "marketing raises external acquisition (market-wide: `segment` does not apply)",
        &[
            Param {
                name: "p_multiplier",
                required: true,
                meaning: "multiplier of the Bass innovation coefficient p_B",
            },
            Param {
                name: "cost",
                required: false,
                meaning: "cost per day (default 0)",
            },
        ],
    ),
];

/// Keys every intervention may have.
pub const COMMON: &[Param] = &[
    Param {
        name: "kind",
        required: true,
        meaning: "one of the kinds below",
    },
    Param {
        name: "start_day",
        required: true,
        meaning: "first day it applies (0 = first simulated day)",
    },
    Param {
        name: "end_day",
        required: false,
        meaning: "first day it no longer applies (default: never ends)",
    },
    Param {
        name: "segment",
        required: false,
        meaning: "who gets it: a segment expression (default \"all\")",
    },
    Param {
        name: "rollout",
        required: false,
        meaning: "{ pilot_segment = \"…\", full_from_day = N }: only the pilot segment until full_from_day",
    },
];

/// The Markdown reference of every intervention kind and parameter, as README.md shows it
/// (a test keeps the two equal).
pub fn reference_table() -> String {
    let mut s = String::from("| kind | parameter | required | meaning |\n|---|---|---|---|\n");
    for p in COMMON {
        s.push_str(&format!(
            "| (every kind) | `{}` | {} | {} |\n",
            p.name,
            if p.required { "yes" } else { "no" },
            p.meaning
        ));
    }
    for (kind, what, params) in KINDS {
        s.push_str(&format!("| `{kind}` | | | {what} |\n"));
        for p in *params {
            s.push_str(&format!(
                "| | `{}` | {} | {} |\n",
                p.name,
                if p.required { "yes" } else { "no" },
                p.meaning
            ));
        }
    }
    s
}

impl Intervention {
    /// One phrase saying what changes, for whom and when.
    pub fn describe(&self) -> String {
        let in_channel = |c: &Option<String>| {
            c.as_ref()
                .map_or("all channels".to_string(), |c| format!("'{c}'"))
        };
        let what = match &self.kind {
            Kind::PriceChange { percent, channel } => {
                format!("prices {percent:+}% in {}", in_channel(channel))
            }
            Kind::NewChannel {
                name,
                attractiveness,
                access_uplift,
                ..
            } => {
                format!(
                    "a new channel '{name}' (attractiveness {attractiveness}, purchase rate {:+}%)",
                    100.0 * access_uplift
                )
            }
            Kind::CloseChannel { channel } => format!("channel '{channel}' closes"),
            Kind::ServiceQuality {
                channel,
                bad_experience,
            } => {
                format!(
                    "bad-experience probability {bad_experience} in {}",
                    in_channel(channel)
                )
            }
            Kind::ReferralProgramme {
                multiplier,
                reward_cost,
            } => format!("referrals ×{multiplier} for a reward of {reward_cost} per customer won"),
            Kind::RetentionOffer {
                dropout_multiplier,
                cost,
            } => format!("dropout ×{dropout_multiplier} at {cost} per customer-day"),
            Kind::PurchaseRate { multiplier } => format!("purchase rate ×{multiplier}"),
            Kind::MarketingPush { p_multiplier, cost } => {
                format!("external acquisition ×{p_multiplier} at {cost} per day")
            }
        };
        let mut s = format!("{what} from day {}", self.start_day);
        if let Some(e) = self.end_day {
            s.push_str(&format!(" to day {e}"));
        }
        if self.segment.text() != "all" {
            s.push_str(&format!(" for {}", self.segment.text()));
        }
        if let Some(r) = &self.rollout {
            s.push_str(&format!(
                ", piloted on {} until day {}",
                r.pilot.text(),
                r.full_from_day
            ));
        }
        s
    }
}
