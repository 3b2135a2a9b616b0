//! SeaORM entities, one module per table. Relations are expressed by queries in the
//! repositories (`WHERE meal_id IN (…)`), which keeps every screen at a fixed number of
//! round trips.

pub mod ai_task;
pub mod billing_payment;
pub mod billing_refund;
pub mod cancel_event;
pub mod daily_goal;
pub mod food_item;
pub mod job;
pub mod meal;
pub mod meal_photo;
pub mod notification;
pub mod personal_plan;
pub mod personal_plan_survey;
pub mod photo_quota;
pub mod plan;
pub mod profile;
pub mod subscription;
pub mod telegram_user;
pub mod user;
pub mod webhook_event;
pub mod weight_entry;
pub mod worker_heartbeat;
