//! The Mini App's user-facing strings, Russian first, English second. Keys are an enum, so a
//! missing translation does not compile. Plurals follow the Russian rules (1 / 2–4 / 5+).

use chrono::{Datelike, NaiveDate, Weekday};
use domain::error::Locale;

macro_rules! catalogue {
    ($($key:ident => $ru:literal, $en:literal;)*) => {
        /// A catalogue key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum K { $($key),* }

        impl K {
            /// Every key (for the completeness test).
            pub const ALL: &'static [K] = &[$(K::$key),*];

            /// The text in `l`.
            pub fn text(self, l: Locale) -> &'static str {
                match (self, l) {
                    $((K::$key, Locale::Ru) => $ru, (K::$key, Locale::En) => $en,)*
                }
            }
        }
    };
}

catalogue! {
    Diary => "Дневник", "Diary";
    Add => "Добавить", "Add";
    Stats => "Статистика", "Stats";
    Profile => "Профиль", "Profile";
    Plan => "Тариф", "Plan";
    Settings => "Настройки", "Settings";
    Coach => "Панель тренера", "Coach panel";
    Today => "Сегодня", "Today";
    PrevWeek => "Предыдущая неделя", "Previous week";
    NextWeek => "Следующая неделя", "Next week";
    PickDate => "Выбрать дату", "Pick a date";
    PrevMonth => "Предыдущий месяц", "Previous month";
    NextMonth => "Следующий месяц", "Next month";
    Close => "Закрыть", "Close";
    Save => "Сохранить", "Save";
    Delete => "Удалить", "Delete";
    Retry => "Повторить", "Retry";
    Kcal => "ккал", "kcal";
    G => "г", "g";
    Protein => "Белки", "Protein";
    Fat => "Жиры", "Fat";
    Carbs => "Углеводы", "Carbs";
    Calories => "Калории", "Calories";
    Goal => "Цель", "Goal";
    Of => "из", "of";
    Left => "Осталось", "Left";
    Over => "Сверх цели", "Over goal";
    GoalsNotSet => "Цели не установлены", "Goals are not set";
    GoalsNotSetHint => "Установите дневные цели КБЖУ в профиле, чтобы видеть прогресс.", "Set daily calorie and macro goals in your profile to see progress.";
    SetGoals => "Установить цели", "Set goals";
    NoMeals => "Пока нет записей", "Nothing logged yet";
    NoMealsHint => "Добавьте первый приём пищи: текстом, фото или вручную.", "Add your first meal: by text, photo or by hand.";
    AddMeal => "Добавить приём пищи", "Add a meal";
    Processing => "Распознаём…", "Recognising…";
    RecognitionFailed => "Ошибка распознавания", "Recognition failed";
    Breakfast => "Завтрак", "Breakfast";
    Lunch => "Обед", "Lunch";
    Dinner => "Ужин", "Dinner";
    Snack => "Перекус", "Snack";
    AddFood => "Добавить еду", "Add food";
    Date => "Дата", "Date";
    MealType => "Приём пищи", "Meal";
    ByText => "Текстом", "By text";
    ByTextPlaceholder => "Например: 150 г гречки и куриная грудка 120 г", "E.g. 150 g buckwheat and chicken breast 120 g";
    LogText => "Записать", "Log it";
    ByPhoto => "По фото", "By photo";
    PhotoHint => "До 5 фото за раз; комментарий к фото повышает точность.", "Up to 5 photos at once; a comment per photo improves accuracy.";
    QuotaLeft => "Фото с распознаванием сегодня: осталось {left} из {limit}", "AI photos today: {left} of {limit} left";
    QuotaPro => "PRO: фото без ограничений", "PRO: unlimited photos";
    ChoosePhotos => "Выбрать фото", "Choose photos";
    PhotoComment => "Комментарий к фото", "Comment for the photo";
    Send => "Отправить", "Send";
    Cancel => "Отмена", "Cancel";
    Manual => "Вручную", "By hand";
    Name => "Название", "Name";
    Grams => "Граммы", "Grams";
    RecentFoods => "Недавние продукты", "Recent foods";
    NoRecent => "Здесь появятся продукты, которые вы уже записывали.", "Foods you have logged will appear here.";
    CopyYesterday => "Скопировать вчерашний день", "Copy yesterday";
    Recent => "Недавние", "Recent";
    Frequent => "Частые", "Frequent";
    YesterdayMeals => "Вчерашние приёмы пищи", "Yesterday's meals";
    CopyMeal => "Скопировать", "Copy";
    Meal => "Приём пищи", "Meal";
    Items => "Блюда", "Dishes";
    Meals => "Приёмы пищи", "Meals";
    NoItems => "В этом приёме пищи пока нет блюд.", "This meal has no dishes yet.";
    DeleteItem => "Удалить блюдо", "Delete dish";
    DeleteMeal => "Удалить приём пищи", "Delete meal";
    ConfirmDeleteMeal => "Удалить этот приём пищи со всеми фото?", "Delete this meal with all its photos?";
    Photos => "Фото", "Photos";
    PhotoFailed => "Не распознано", "Not recognised";
    PhotoCancelled => "Отменено", "Cancelled";
    Gender => "Пол", "Sex";
    Male => "Мужской", "Male";
    Female => "Женский", "Female";
    BirthDate => "Дата рождения", "Birth date";
    Height => "Рост, см", "Height, cm";
    Weight => "Вес, кг", "Weight, kg";
    Activity => "Активность", "Activity";
    ActSedentary => "Сидячий образ жизни", "Sedentary";
    ActLight => "Лёгкая активность", "Lightly active";
    ActModerate => "Умеренная активность", "Moderately active";
    ActVery => "Высокая активность", "Very active";
    ActExtra => "Очень высокая активность", "Extra active";
    GoalType => "Цель по весу", "Weight goal";
    GoalLoss => "Снижение веса", "Lose weight";
    GoalKeep => "Поддержание", "Maintain";
    GoalGain => "Набор веса", "Gain weight";
    Timezone => "Часовой пояс", "Time zone";
    DailyGoals => "Дневные цели", "Daily goals";
    AutoCalc => "Рассчитать автоматически", "Calculate automatically";
    AutoCalcHint => "По формуле Миффлина — Сан Жеора из данных профиля.", "Mifflin–St Jeor from your profile.";
    MissingFields => "Для расчёта заполните:", "To calculate, fill in:";
    KcalDerived => "Пусто — рассчитать из БЖУ (4/9/4)", "Empty — derived from macros (4/9/4)";
    Week => "Неделя", "Week";
    Month => "Месяц", "Month";
    Average => "В среднем за день", "Daily average";
    DaysLogged => "Дней с записями", "Days logged";
    Adherence => "Дней в пределах цели", "Days on goal";
    WeightLog => "Вес", "Weight";
    Trend => "Тренд", "Trend";
    AddWeight => "Записать вес", "Log weight";
    NoWeights => "Записей веса пока нет.", "No weight entries yet.";
    Language => "Язык", "Language";
    Theme => "Тема", "Theme";
    ThemeAuto => "Как в Telegram", "As in Telegram";
    ThemeLight => "Светлая", "Light";
    ThemeDark => "Тёмная", "Dark";
    Reminders => "Напоминания", "Reminders";
    MealReminders => "Напоминать о приёмах пищи", "Remind me about meals";
    EveningSummary => "Вечерний итог дня", "Evening summary of the day";
    EveningSummaryAt => "Время итога", "Summary time";
    InactivityNudge => "Напомнить, если я пропал на 2 дня", "Nudge me after 2 days without logs";
    RemindersUnavailable => "Настройки напоминаний сейчас недоступны.", "Reminder settings are unavailable right now.";
    RemindersHint => "Напоминания присылает бот в ваше местное время.", "The bot sends reminders in your local time.";
    ExportCsv => "Скачать дневник (CSV)", "Download the diary (CSV)";
    DeleteAccount => "Удалить аккаунт", "Delete account";
    DeleteAccountConfirm => "Удалить аккаунт и все данные без возможности восстановления?", "Delete the account and all data permanently?";
    Subscription => "Подписка", "Subscription";
    CurrentPlan => "Текущий тариф", "Current plan";
    Free => "Бесплатный", "Free";
    ActiveUntil => "активен до", "active until";
    Buy => "Оформить", "Subscribe";
    PlansUnavailable => "Оплата пока недоступна на этом сервере.", "Payments are not available on this server yet.";
    AutoRenew => "Автопродление", "Auto-renewal";
    AutoRenewConsent => "Разрешить ежемесячно списывать оплату PRO с сохранённой карты? Отключить можно здесь в любой момент.", "Allow charging the PRO price to the saved card each period? You can turn it off here at any time.";
    Card => "Карта", "Card";
    NoCard => "Карта не привязана", "No card saved";
    LinkCard => "Привязать карту", "Link a card";
    PaymentHistory => "История платежей", "Payment history";
    NoPayments => "Платежей пока нет.", "No payments yet.";
    PaySucceeded => "Оплачен", "Paid";
    PayPending => "Ожидает оплаты", "Pending";
    PayCanceled => "Отменён", "Cancelled";
    PayFailed => "Не прошёл", "Failed";
    PayRefunded => "Возвращён", "Refunded";
    Leads => "Заявки", "Leads";
    Clients => "Клиенты", "Clients";
    Subscribers => "Подписчики", "Subscribers";
    Search => "Поиск", "Search";
    StatusNew => "Новая", "New";
    StatusViewed => "Просмотрена", "Viewed";
    StatusContacted => "Связались", "Contacted";
    StatusClient => "Клиент", "Client";
    MakeClient => "Сделать клиентом", "Make a client";
    NoLeads => "Заявок пока нет.", "No leads yet.";
    NoClients => "Клиентов пока нет.", "No clients yet.";
    Revenue => "Выручка", "Revenue";
    Total => "Всего", "Total";
    Survey => "Анкета", "Survey";
    Age => "Возраст", "Age";
    All => "Все", "All";
    OpenChat => "Написать", "Message";
    InviteLink => "Ссылка-приглашение", "Invite link";
    InviteLinkHint => "Кто запустит бота по этой ссылке, придёт в заявки с пометкой, что пришёл по вашему приглашению.", "People who start the bot through this link show up in leads as invited by you.";
    InviteLinkMissing => "Ссылка недоступна: имя бота (TELEGRAM_BOT_USERNAME) не настроено.", "The link is unavailable: the bot username (TELEGRAM_BOT_USERNAME) is not configured.";
    CopyLink => "Скопировать", "Copy";
    LinkCopied => "Ссылка скопирована", "Link copied";
    ShareLink => "Поделиться", "Share";
    InvitedBy => "Пришёл по приглашению", "Invited by";
    SourceTag => "Источник", "Source";
    ClientDiary => "Дневник клиента", "Client's diary";
    PrevDay => "Предыдущий день", "Previous day";
    NextDay => "Следующий день", "Next day";
    NotFound => "Страница не найдена", "Page not found";
}

/// Short weekday names, Monday first.
pub fn weekday_short(l: Locale, d: Weekday) -> &'static str {
    const RU: [&str; 7] = ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"];
    const EN: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
    let i = d.num_days_from_monday() as usize;
    match l {
        Locale::Ru => RU[i],
        Locale::En => EN[i],
    }
}

/// Month names in the nominative (for a month caption), 1-based.
pub fn month_name(l: Locale, month: u32) -> &'static str {
    const RU: [&str; 12] = [
        "Январь",
        "Февраль",
        "Март",
        "Апрель",
        "Май",
        "Июнь",
        "Июль",
        "Август",
        "Сентябрь",
        "Октябрь",
        "Ноябрь",
        "Декабрь",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let i = (month.clamp(1, 12) - 1) as usize;
    match l {
        Locale::Ru => RU[i],
        Locale::En => EN[i],
    }
}

/// "10 марта" / "10 March".
pub fn day_month(l: Locale, d: NaiveDate) -> String {
    const RU: [&str; 12] = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    match l {
        Locale::Ru => format!("{} {}", d.day(), RU[d.month0() as usize]),
        Locale::En => format!("{} {}", d.day(), month_name(l, d.month())),
    }
}

/// The Russian plural form index: 0 for 1, 21…; 1 for 2–4, 22–24…; 2 otherwise.
fn ru_form(n: u64) -> usize {
    let (m10, m100) = (n % 10, n % 100);
    if m10 == 1 && m100 != 11 {
        0
    } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
        1
    } else {
        2
    }
}

/// "3 приёма пищи" / "3 meals".
pub fn meals_count(l: Locale, n: u64) -> String {
    match l {
        Locale::Ru => {
            let w = ["приём пищи", "приёма пищи", "приёмов пищи"][ru_form(n)];
            format!("{n} {w}")
        }
        Locale::En => format!("{n} {}", if n == 1 { "meal" } else { "meals" }),
    }
}

/// "2 блюда" / "2 dishes".
pub fn dishes_count(l: Locale, n: u64) -> String {
    match l {
        Locale::Ru => format!("{n} {}", ["блюдо", "блюда", "блюд"][ru_form(n)]),
        Locale::En => format!("{n} {}", if n == 1 { "dish" } else { "dishes" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        for k in K::ALL {
            assert!(!k.text(Locale::Ru).is_empty(), "{k:?}");
            assert!(!k.text(Locale::En).is_empty(), "{k:?}");
        }
    }

    #[test]
    fn russian_plurals_follow_the_rules() {
        assert_eq!(dishes_count(Locale::Ru, 1), "1 блюдо");
        assert_eq!(dishes_count(Locale::Ru, 2), "2 блюда");
        assert_eq!(dishes_count(Locale::Ru, 5), "5 блюд");
        assert_eq!(dishes_count(Locale::Ru, 11), "11 блюд");
        assert_eq!(dishes_count(Locale::Ru, 22), "22 блюда");
        assert_eq!(meals_count(Locale::Ru, 21), "21 приём пищи");
        assert_eq!(meals_count(Locale::En, 1), "1 meal");
    }
}
