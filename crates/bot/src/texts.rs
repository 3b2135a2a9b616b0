//! The bot's user-facing strings, one catalogue per language (Russian first), keyed by [`T`].
//! Placeholders are `{name}` and are filled by [`fill`] with HTML-escaped values.

use domain::error::Locale;

/// Message keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T {
    Welcome,
    WelcomeAdmin,
    BtnStartSurvey,
    BtnOpenApp,
    BtnOpenPanel,
    BtnBack,
    BtnCancel,
    BtnDone,
    BtnSkipTarget,
    BtnConfirm,
    BtnEdit,
    BtnConsentPlan,
    BtnConsentPlanProfile,
    BtnTzManual,
    AppText,
    Help,
    Unexpected,
    SurveyCancelled,
    SurveyRestart,
    QGender,
    BtnMale,
    BtnFemale,
    QAge,
    ErrAge,
    QHeight,
    ErrHeight,
    QWeight,
    ErrWeight,
    QTarget,
    ErrTarget,
    QActivity,
    QTraining,
    QGoals,
    QHealth,
    PickOne,
    QBodyNow,
    QBodyIdeal,
    QTz,
    QTzManual,
    ErrTz,
    ErrButton,
    Summary,
    Consent,
    PlanLimit,
    PlanGenerating,
    PlanFailed,
    PlanAfter,
    PlanBusy,
    Selected,
    NotSpecified,
    NoChange,
    Years,
    Cm,
    Kg,
    Recognizing,
    PhotoFailed,
    PhotoResult,
    PhotoItem,
    PlanNutrition,
    PlanKcal,
    PlanProtein,
    PlanDisclaimer,
    PlanTimeline,
    UpgradeNeeded,
    BtnUpgrade,
    MealUndone,
    MealTypeSet,
    TextLogging,
    TextNotFood,
    Today,
    TodayNoGoal,
    Settings,
    SettingsSaved,
    BtnMealReminders,
    BtnSummary,
    BtnNudge,
    On,
    Off,
    ReminderMeal,
    ReminderSummary,
    ReminderNudge,
    AdminNewUser,
    BtnOpenInApp,
    BtnUndo,
    BtnProfile,
    CmdApp,
    CmdPlan,
    CmdToday,
    CmdSettings,
    CmdHelp,
}

/// The string of `key` in `locale`.
#[must_use]
pub fn t(locale: Locale, key: T) -> &'static str {
    match locale {
        Locale::En => en(key),
        _ => ru(key),
    }
}

/// Replaces each `{name}` in `template` by its value (values are inserted as given: escape
/// user-provided values with [`esc`] first).
#[must_use]
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Escapes text for Telegram HTML.
#[must_use]
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn ru(key: T) -> &'static str {
    match key {
        T::Welcome => {
            "🎯 <b>Персональный план питания и тренировок</b>\n\nОтветьте на 12 коротких вопросов (2–3 минуты): пол, возраст, рост, вес, активность, тренированность, цели, ограничения, тип фигуры и часовой пояс.\n\nВы получите анализ, рамки по калориям, рекомендации по тренировкам и реалистичный таймлайн.\n\n<i>На каждом шаге можно вернуться назад или отменить опрос.</i>\n\nА ещё сюда можно прислать фото еды или написать «200 г гречки и котлета» — я посчитаю КБЖУ."
        }
        T::WelcomeAdmin => {
            "👋 <b>Привет, Админ!</b>\n\n🖥 Откройте панель тренера, чтобы управлять заявками и клиентами."
        }
        T::BtnStartSurvey => "🚀 Начать опрос",
        T::BtnOpenApp => "📱 Открыть трекер",
        T::BtnOpenPanel => "📟 Открыть панель тренера",
        T::BtnBack => "⬅️ Назад",
        T::BtnCancel => "❌ Отменить",
        T::BtnDone => "✅ Готово",
        T::BtnSkipTarget => "➡️ Пропустить (поддержание веса)",
        T::BtnConfirm => "✅ Всё верно, продолжить",
        T::BtnEdit => "✏️ Изменить данные",
        T::BtnConsentPlan => "✅ Согласен, составить план",
        T::BtnConsentPlanProfile => "✅ Согласен + заполнить профиль в трекере",
        T::BtnTzManual => "✏️ Другой часовой пояс…",
        T::AppText => {
            "📱 <b>Откройте приложение</b>\n\nНажмите кнопку ниже, чтобы открыть трекер КБЖУ."
        }
        T::Help => {
            "ℹ️ <b>Что я умею</b>\n\n📸 Пришлите фото еды — распознаю блюда, граммы и КБЖУ.\n✍️ Напишите, что съели: «200 г гречки и котлета».\n/today — итоги дня\n/personal_plan — персональный план\n/settings — напоминания\n/app — открыть трекер"
        }
        T::Unexpected => {
            "🤔 Я понимаю фото еды и текст вроде «200 г гречки и котлета». Команды: /help"
        }
        T::SurveyCancelled => "❌ <b>Опрос отменён</b>\n\nНачать заново: /personal_plan",
        T::SurveyRestart => "🔄 <b>Начинаем опрос заново</b>",
        T::QGender => "👤 <b>Шаг 1 из 12: Укажите ваш пол</b>\n\nЭто поможет учесть физиологию.",
        T::BtnMale => "👨 Мужской",
        T::BtnFemale => "👩 Женский",
        T::QAge => {
            "🎂 <b>Шаг 2 из 12: Укажите ваш возраст</b>\n\nВведите число от 14 до 80 лет, например: <code>28</code>"
        }
        T::ErrAge => "❌ Некорректный возраст. Пожалуйста, введите целое число от 14 до 80.",
        T::QHeight => {
            "📏 <b>Шаг 3 из 12: Укажите ваш рост</b>\n\nВ сантиметрах, от 120 до 250, например: <code>175</code>"
        }
        T::ErrHeight => "❌ Некорректный рост. Введите целое число от 120 до 250 см.",
        T::QWeight => {
            "⚖️ <b>Шаг 4 из 12: Укажите ваш текущий вес</b>\n\nВ килограммах, можно с десятыми: <code>70</code> или <code>65.5</code>"
        }
        T::ErrWeight => "❌ Некорректный вес. Введите число от 30 до 300 кг.",
        T::QTarget => {
            "🎯 <b>Шаг 5 из 12: Укажите ваш целевой вес</b>\n\nОт него зависит, худеем, набираем или поддерживаем. Или нажмите «Пропустить»."
        }
        T::ErrTarget => {
            "❌ Некорректный целевой вес. Введите число от 30 до 300 кг, отличное от текущего веса, или нажмите «Пропустить»."
        }
        T::QActivity => {
            "🏃 <b>Шаг 6 из 12: Укажите ваш уровень активности</b>\n\nДневная активность <b>без учёта тренировок</b>."
        }
        T::QTraining => "💪 <b>Шаг 7 из 12: Какой у вас уровень тренированности сейчас?</b>",
        T::QGoals => {
            "🎯 <b>Шаг 8 из 12: Что вы больше всего хотите улучшить в теле?</b>\n\nМожно выбрать несколько, затем «Готово»."
        }
        T::QHealth => {
            "🟩 <b>Шаг 9 из 12: Есть ли ограничения по здоровью или питанию?</b>\n\nМожно выбрать несколько, затем «Готово»."
        }
        T::PickOne => "❗ Выберите хотя бы один вариант",
        T::QBodyNow => "📸 <b>Шаг 10 из 12: Выберите ваш текущий тип фигуры</b>",
        T::QBodyIdeal => "🌟 <b>Шаг 11 из 12: Выберите ваш идеальный тип фигуры</b>",
        T::QTz => {
            "🌍 <b>Шаг 12 из 12: Укажите ваш часовой пояс</b>\n\nВыберите из списка или введите вручную."
        }
        T::QTzManual => {
            "✏️ Введите часовой пояс: например <code>Москва</code>, <code>Лондон</code>, <code>Астана</code>, <code>UTC+3</code>, <code>UTC+5:30</code> или <code>Europe/Madrid</code>."
        }
        T::ErrTz => {
            "❌ Некорректный часовой пояс. Примеры: <code>Европа</code>, <code>Москва</code>, <code>Лондон</code>, <code>Мадрид</code>, <code>Астана</code>, <code>UTC+3</code>."
        }
        T::ErrButton => "Нажмите одну из кнопок под вопросом.",
        T::Summary => {
            "✅ <b>Проверьте ваши данные</b>\n\n<b>Пол:</b> {gender}\n<b>Возраст:</b> {age}\n<b>Рост:</b> {height}\n<b>Вес:</b> {weight}\n<b>Целевой вес:</b> {target}\n<b>Активность:</b> {activity}\n<b>Тренированность:</b> {training}\n<b>Цели:</b> {goals}\n<b>Ограничения:</b> {health}\n<b>Текущий тип фигуры:</b> {body_now}\n<b>Идеальный тип фигуры:</b> {body_ideal}\n<b>Часовой пояс:</b> {tz}\n\nВсё верно?"
        }
        T::Consent => {
            "🔐 <b>Согласие на обработку</b>\n\nДля составления плана ваши ответы (включая ограничения по здоровью) будут переданы ИИ-сервису без имени и Telegram-данных. Можно также заполнить ими профиль трекера и рассчитать цели КБЖУ."
        }
        T::PlanLimit => {
            "⚠️ <b>Превышен дневной лимит</b>\n\nСегодня вы уже получили {count} из {limit} планов. Новые планы будут доступны завтра."
        }
        T::PlanGenerating => {
            "⏳ <b>Генерирую ваш персональный план…</b>\n\nЭто займёт 5–30 секунд."
        }
        T::PlanFailed => {
            "⚠️ <b>Не удалось сгенерировать план</b>\n\nИИ-сервис сейчас недоступен. Ваши ответы сохранены — попробуйте ещё раз позже: /personal_plan"
        }
        T::PlanAfter => "📱 Отслеживайте питание по плану в трекере: фото еды → КБЖУ за секунды.",
        T::PlanBusy => "⏳ Уже генерирую план, подождите…",
        T::Selected => "Выбрано",
        T::NotSpecified => "не указан (поддержание формы)",
        T::NoChange => "Без изменений",
        T::Years => "лет",
        T::Cm => "см",
        T::Kg => "кг",
        T::Recognizing => "⏳ Распознаю фото…",
        T::PhotoFailed => "😕 <b>{title}</b>\n{message}",
        T::PhotoItem => "• {name} — {grams} г · {kcal} ккал · Б {p} · Ж {f} · У {c}",
        T::PlanNutrition => "<b>🍽️ Рамки по питанию</b>",
        T::PlanKcal => "• Калории: {min}–{max} ккал/день",
        T::PlanProtein => "• Белок: {min}–{max} г/день",
        T::PlanDisclaimer => {
            "<i>Точные цифры индивидуальны — для точного расчёта обратитесь к тренеру.</i>"
        }
        T::PlanTimeline => "<b>📅 Таймлайн</b>\n{timeline}",
        T::PhotoResult => {
            "🍽 <b>{meal}</b>\n\n{items}\n\n<b>Итого:</b> {kcal} ккал · Б {p} · Ж {f} · У {c}"
        }
        T::UpgradeNeeded => {
            "🔒 <b>Лимит бесплатных распознаваний на сегодня исчерпан</b> (3 фото в день).\n\nС PRO — без ограничений. Текстом («200 г гречки») можно записывать и сейчас."
        }
        T::BtnUpgrade => "💎 Перейти на PRO",
        T::MealUndone => "↩️ Запись удалена.",
        T::MealTypeSet => "Сохранено: {meal}",
        T::TextLogging => "⏳ Считаю КБЖУ…",
        T::TextNotFood => "🤔 Не нашёл в тексте продуктов. Пример: «200 г гречки и котлета». /help",
        T::Today => {
            "📊 <b>Сегодня, {date}</b>\n\n🔥 {kcal} из {goal_kcal} ккал\nБ {p} / {goal_p} г · Ж {f} / {goal_f} г · У {c} / {goal_c} г\nПриёмов пищи: {meals}"
        }
        T::TodayNoGoal => {
            "📊 <b>Сегодня, {date}</b>\n\n🔥 {kcal} ккал · Б {p} · Ж {f} · У {c}\nПриёмов пищи: {meals}\n\nЦель не задана — пройдите /personal_plan или задайте её в трекере."
        }
        T::Settings => {
            "⚙️ <b>Напоминания</b>\n\n🍽 Напоминания о еде: {meal} ({times})\n🌙 Итоги дня: {summary} ({summary_at})\n💤 Напомнить, если 2 дня без записей: {nudge}\n\nВремя — по вашему часовому поясу ({tz}); с 22:00 до 08:00 сообщений нет. Время меняется в трекере."
        }
        T::SettingsSaved => "Сохранено",
        T::BtnMealReminders => "🍽 Напоминания о еде",
        T::BtnSummary => "🌙 Итоги дня",
        T::BtnNudge => "💤 Если нет записей",
        T::On => "вкл",
        T::Off => "выкл",
        T::ReminderMeal => {
            "🍽 Время для «{meal}». Пришлите фото или напишите, что едите — я посчитаю КБЖУ."
        }
        T::ReminderSummary => {
            "🌙 <b>Итоги дня</b>\n\n🔥 {kcal} из {goal_kcal} ккал · Б {p} · Ж {f} · У {c}\nПриёмов пищи: {meals}"
        }
        T::ReminderNudge => "👋 Давно не виделись! Запишите приём пищи — просто пришлите фото.",
        T::AdminNewUser => {
            "👤 <b>НОВЫЙ ПОЛЬЗОВАТЕЛЬ</b>\n\nИмя: {name}\nTelegram ID: <code>{id}</code>\nUsername: {username}\nИсточник: {source}"
        }
        T::BtnOpenInApp => "📱 Открыть в приложении",
        T::BtnUndo => "↩️ Отменить запись",
        T::BtnProfile => "👤 Открыть профиль в Telegram",
        T::CmdApp => "Открыть трекер",
        T::CmdPlan => "Персональный план",
        T::CmdToday => "Итоги дня",
        T::CmdSettings => "Напоминания",
        T::CmdHelp => "Помощь",
    }
}

fn en(key: T) -> &'static str {
    match key {
        T::Welcome => {
            "🎯 <b>Personal nutrition and training plan</b>\n\nAnswer 12 short questions (2–3 minutes) and get an analysis, calorie ranges, training advice and a realistic timeline.\n\n<i>You can go back or cancel at any step.</i>\n\nYou can also send a photo of a meal or write “200 g buckwheat and a cutlet”."
        }
        T::WelcomeAdmin => {
            "👋 <b>Hi, admin!</b>\n\n🖥 Open the coach panel to manage leads and clients."
        }
        T::BtnStartSurvey => "🚀 Start the survey",
        T::BtnOpenApp => "📱 Open the tracker",
        T::BtnOpenPanel => "📟 Open the coach panel",
        T::BtnBack => "⬅️ Back",
        T::BtnCancel => "❌ Cancel",
        T::BtnDone => "✅ Done",
        T::BtnSkipTarget => "➡️ Skip (maintain weight)",
        T::BtnConfirm => "✅ All correct, continue",
        T::BtnEdit => "✏️ Edit answers",
        T::BtnConsentPlan => "✅ I agree, make the plan",
        T::BtnConsentPlanProfile => "✅ I agree + fill my tracker profile",
        T::BtnTzManual => "✏️ Another time zone…",
        T::AppText => "📱 <b>Open the app</b>\n\nPress the button below to open the tracker.",
        T::Help => {
            "ℹ️ <b>What I can do</b>\n\n📸 Send a food photo.\n✍️ Write what you ate.\n/today /personal_plan /settings /app"
        }
        T::Unexpected => {
            "🤔 I understand food photos and text like “200 g buckwheat”. Commands: /help"
        }
        T::SurveyCancelled => "❌ <b>Survey cancelled</b>\n\nStart again: /personal_plan",
        T::SurveyRestart => "🔄 <b>Starting over</b>",
        T::QGender => "👤 <b>Step 1 of 12: your sex</b>",
        T::BtnMale => "👨 Male",
        T::BtnFemale => "👩 Female",
        T::QAge => "🎂 <b>Step 2 of 12: your age</b>\n\nA whole number from 14 to 80.",
        T::ErrAge => "❌ Invalid age: a whole number from 14 to 80.",
        T::QHeight => "📏 <b>Step 3 of 12: your height</b>\n\nIn cm, 120 to 250.",
        T::ErrHeight => "❌ Invalid height: a whole number from 120 to 250 cm.",
        T::QWeight => "⚖️ <b>Step 4 of 12: your current weight</b>\n\nIn kg, e.g. 70 or 65.5.",
        T::ErrWeight => "❌ Invalid weight: 30 to 300 kg.",
        T::QTarget => "🎯 <b>Step 5 of 12: your target weight</b>\n\nOr press “Skip”.",
        T::ErrTarget => {
            "❌ Invalid target weight: 30 to 300 kg, different from the current weight, or press “Skip”."
        }
        T::QActivity => "🏃 <b>Step 6 of 12: daily activity</b> (excluding workouts)",
        T::QTraining => "💪 <b>Step 7 of 12: training level</b>",
        T::QGoals => "🎯 <b>Step 8 of 12: what to improve?</b>\n\nPick one or more, then “Done”.",
        T::QHealth => {
            "🟩 <b>Step 9 of 12: health or food limitations?</b>\n\nPick one or more, then “Done”."
        }
        T::PickOne => "❗ Pick at least one option",
        T::QBodyNow => "📸 <b>Step 10 of 12: your current body type</b>",
        T::QBodyIdeal => "🌟 <b>Step 11 of 12: your ideal body type</b>",
        T::QTz => "🌍 <b>Step 12 of 12: your time zone</b>",
        T::QTzManual => "✏️ Type a time zone: e.g. London, UTC+3, UTC+5:30 or Europe/Madrid.",
        T::ErrTz => "❌ Unknown time zone. Examples: London, Moscow, UTC+3.",
        T::ErrButton => "Press one of the buttons under the question.",
        T::Summary => {
            "✅ <b>Check your answers</b>\n\n<b>Sex:</b> {gender}\n<b>Age:</b> {age}\n<b>Height:</b> {height}\n<b>Weight:</b> {weight}\n<b>Target weight:</b> {target}\n<b>Activity:</b> {activity}\n<b>Training:</b> {training}\n<b>Goals:</b> {goals}\n<b>Limitations:</b> {health}\n<b>Body type now:</b> {body_now}\n<b>Ideal body type:</b> {body_ideal}\n<b>Time zone:</b> {tz}\n\nAll correct?"
        }
        T::Consent => {
            "🔐 <b>Consent</b>\n\nTo make the plan, your answers (including health limitations) are sent to an AI service without your name or Telegram data. They can also fill your tracker profile and goals."
        }
        T::PlanLimit => {
            "⚠️ <b>Daily limit reached</b>\n\nYou got {count} of {limit} plans today. Try again tomorrow."
        }
        T::PlanGenerating => "⏳ <b>Generating your plan…</b>",
        T::PlanFailed => {
            "⚠️ <b>Could not generate the plan</b>\n\nYour answers are saved; try again later: /personal_plan"
        }
        T::PlanAfter => "📱 Track your meals in the tracker.",
        T::PlanBusy => "⏳ Already generating, please wait…",
        T::Selected => "Selected",
        T::NotSpecified => "not set (maintenance)",
        T::NoChange => "No change",
        T::Years => "years",
        T::Cm => "cm",
        T::Kg => "kg",
        T::Recognizing => "⏳ Recognising the photo…",
        T::PhotoFailed => "😕 <b>{title}</b>\n{message}",
        T::PhotoItem => "• {name} — {grams} g · {kcal} kcal · P {p} · F {f} · C {c}",
        T::PlanNutrition => "<b>🍽️ Nutrition ranges</b>",
        T::PlanKcal => "• Calories: {min}–{max} kcal/day",
        T::PlanProtein => "• Protein: {min}–{max} g/day",
        T::PlanDisclaimer => {
            "<i>Exact numbers are individual — ask a coach for a precise calculation.</i>"
        }
        T::PlanTimeline => "<b>📅 Timeline</b>\n{timeline}",
        T::PhotoResult => {
            "🍽 <b>{meal}</b>\n\n{items}\n\n<b>Total:</b> {kcal} kcal · P {p} · F {f} · C {c}"
        }
        T::UpgradeNeeded => {
            "🔒 <b>Today's free recognitions are used up</b> (3 photos a day).\n\nPRO has no limit. Text logging still works."
        }
        T::BtnUpgrade => "💎 Get PRO",
        T::MealUndone => "↩️ Entry deleted.",
        T::MealTypeSet => "Saved: {meal}",
        T::TextLogging => "⏳ Counting…",
        T::TextNotFood => "🤔 No foods found. Example: “200 g buckwheat and a cutlet”. /help",
        T::Today => {
            "📊 <b>Today, {date}</b>\n\n🔥 {kcal} of {goal_kcal} kcal\nP {p} / {goal_p} g · F {f} / {goal_f} g · C {c} / {goal_c} g\nMeals: {meals}"
        }
        T::TodayNoGoal => {
            "📊 <b>Today, {date}</b>\n\n🔥 {kcal} kcal · P {p} · F {f} · C {c}\nMeals: {meals}\n\nNo goal yet."
        }
        T::Settings => {
            "⚙️ <b>Reminders</b>\n\n🍽 Meal reminders: {meal} ({times})\n🌙 Evening summary: {summary} ({summary_at})\n💤 Nudge after 2 days without logs: {nudge}\n\nTimes are in your time zone ({tz}); nothing is sent 22:00–08:00."
        }
        T::SettingsSaved => "Saved",
        T::BtnMealReminders => "🍽 Meal reminders",
        T::BtnSummary => "🌙 Evening summary",
        T::BtnNudge => "💤 Inactivity nudge",
        T::On => "on",
        T::Off => "off",
        T::ReminderMeal => "🍽 Time for {meal}. Send a photo or write what you eat.",
        T::ReminderSummary => {
            "🌙 <b>Your day</b>\n\n🔥 {kcal} of {goal_kcal} kcal · P {p} · F {f} · C {c}\nMeals: {meals}"
        }
        T::ReminderNudge => "👋 Long time no see! Log a meal — just send a photo.",
        T::AdminNewUser => {
            "👤 <b>NEW USER</b>\n\nName: {name}\nTelegram ID: <code>{id}</code>\nUsername: {username}\nSource: {source}"
        }
        T::BtnOpenInApp => "📱 Open in the app",
        T::BtnUndo => "↩️ Undo",
        T::BtnProfile => "👤 Open the Telegram profile",
        T::CmdApp => "Open the tracker",
        T::CmdPlan => "Personal plan",
        T::CmdToday => "Today",
        T::CmdSettings => "Reminders",
        T::CmdHelp => "Help",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_filling() {
        assert_eq!(esc("<b>&\""), "&lt;b&gt;&amp;&quot;");
        assert_eq!(fill("{a} и {b}", &[("a", "1"), ("b", "2")]), "1 и 2");
    }
}
