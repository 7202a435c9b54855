//! 集団感染: a few named clusters, placed in the busy weeks of the curve,
//! each drawing a share of the cases diagnosed in its fortnight.

use chrono::{Days, NaiveDate};
use rand::Rng;
use uuid::Uuid;

use todoke_domain::Cluster;

use crate::curve::Schedule;
use crate::ids;
use crate::places::Places;

pub(crate) struct Member {
    pub age: u32,
    pub occupation: Option<&'static str>,
    pub facility_resident: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClusterKind {
    Hospital,
    ElderlyFacility,
    Restaurant,
    School,
    Nursery,
    Workplace,
}

pub(crate) struct ClusterPlan {
    pub cluster: Cluster,
    pub kind: ClusterKind,
    pub place: usize,
    /// Diagnosis dates of members: `from..=to`.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Chance that a case diagnosed in the window belongs to the cluster.
    pub share: f64,
    pub cap: u32,
    pub members: u32,
}

const WINDOW_DAYS: u64 = 14;

pub(crate) fn plan<R: Rng>(rng: &mut R, schedule: &Schedule, places: &Places, end: NaiveDate) -> Vec<ClusterPlan> {
    let count = (schedule.days() / 90).clamp(3, 12);
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let day = schedule.weighted_day(rng);
        let from = schedule.date(day);
        let to = (from + Days::new(WINDOW_DAYS - 1)).min(end);
        let in_window: u64 = (day..schedule.days()).take(WINDOW_DAYS as usize).map(|d| schedule.count(d) as u64).sum();
        let place_index = places.pick(rng);
        let place = &places.places[place_index];
        let hc = &places.health_centres[place.hc];
        let kind = match k % 6 {
            0 => ClusterKind::Hospital,
            1 => ClusterKind::ElderlyFacility,
            2 => ClusterKind::Restaurant,
            3 => ClusterKind::School,
            4 => ClusterKind::Workplace,
            _ => ClusterKind::Nursery,
        };
        let b = &place.base;
        let (name, setting) = match kind {
            ClusterKind::Hospital => (format!("{}クラスター", place.hospitals[0].name), "医療機関"),
            ClusterKind::ElderlyFacility => (format!("高齢者施設「{}の里」クラスター", b), "高齢者施設"),
            // "中駅前" would be no station: short bases name the ward instead.
            ClusterKind::Restaurant if b.chars().count() < 2 => (format!("{}内飲食店クラスター", place.name), "飲食店"),
            ClusterKind::Restaurant => (format!("{}駅前飲食店クラスター", b), "飲食店"),
            ClusterKind::School => {
                let quarter = ["東", "西", "南", "北", "中央"][rng.gen_range(0..5)];
                (format!("{}立{}{}中学校クラスター", place.operator, b, quarter), "学校")
            }
            ClusterKind::Workplace => (format!("{}物流センタークラスター", b), "事業所"),
            ClusterKind::Nursery => (format!("{}すくすく保育園クラスター", b), "保育所"),
        };
        let cap = rng.gen_range(8..=40);
        let share = if in_window == 0 { 0.0 } else { (cap as f64 * 1.2 / in_window as f64).min(0.5) };
        let first_onset = from - Days::new(5);
        let id: Uuid = ids::v7_on(rng, from);
        let place_text = match kind {
            ClusterKind::Hospital => place.hospitals[0].address.clone(),
            _ => place.street_address(rng),
        };
        out.push(ClusterPlan {
            cluster: Cluster {
                id,
                name,
                setting: setting.to_string(),
                place: place_text,
                first_onset: Some(first_onset),
                health_centre: hc.code.clone(),
                note: "積極的疫学調査により関連を確認".to_string(),
            },
            kind,
            place: place_index,
            from,
            to,
            share,
            cap,
            members: 0,
        });
    }
    out
}

impl ClusterKind {
    /// A member: residents, patients or pupils most of the time, staff
    /// otherwise. Residents of an elderly facility recover there.
    pub(crate) fn member<R: Rng>(self, rng: &mut R) -> Member {
        let staff = rng.gen_bool(0.3);
        let (age, occupation) = match (self, staff) {
            (ClusterKind::Hospital, false) => (rng.gen_range(60..=95), None),
            (ClusterKind::Hospital, true) => (rng.gen_range(22..=64), Some("医療従事者")),
            (ClusterKind::ElderlyFacility, false) => (rng.gen_range(75..=100), Some("無職")),
            (ClusterKind::ElderlyFacility, true) => (rng.gen_range(22..=64), Some("介護職員")),
            (ClusterKind::Restaurant, false) => (rng.gen_range(20..=59), None),
            (ClusterKind::Restaurant, true) => (rng.gen_range(20..=59), Some("飲食店従業員")),
            (ClusterKind::School, false) => (rng.gen_range(12..=14), Some("中学生")),
            (ClusterKind::School, true) => (rng.gen_range(25..=60), Some("教員")),
            (ClusterKind::Nursery, false) => (rng.gen_range(1..=5), Some("保育園児・幼稚園児")),
            (ClusterKind::Nursery, true) => (rng.gen_range(22..=60), Some("保育士")),
            (ClusterKind::Workplace, _) => (rng.gen_range(20..=64), Some("会社員")),
        };
        Member { age, occupation, facility_resident: self == ClusterKind::ElderlyFacility && !staff }
    }

    pub(crate) fn behaviour_place(self) -> &'static str {
        match self {
            ClusterKind::Hospital => "入院・通院先の医療機関",
            ClusterKind::ElderlyFacility => "入所・勤務先の高齢者施設",
            ClusterKind::Restaurant => "駅前の飲食店（会食）",
            ClusterKind::School => "学校（授業・部活動）",
            ClusterKind::Nursery => "保育園",
            ClusterKind::Workplace => "勤務先の物流センター",
        }
    }
}
