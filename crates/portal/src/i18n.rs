//! English and Simplified Chinese: the language a page is in (the `lang` cookie set by the
//! switch, else the browser's Accept-Language), and every text a page shows, by key.

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The code used in the cookie, the switch's URL and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language a code names (`en`, `zh`, `zh-CN`, ...), if we speak it.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The best language for an Accept-Language header (highest q we speak; English when
    /// none).
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    /// The text for `key` in this language (the key itself when it has no entry, so a
    /// missing translation shows, and a test can find it).
    pub fn text(self, key: &str) -> &'static str {
        TEXTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, en, zh)| match self {
                Lang::En => *en,
                Lang::Zh => *zh,
            })
            .unwrap_or("??")
    }
}

/// (key, English, Simplified Chinese).
const TEXTS: &[(&str, &str, &str)] = &[
    ("app", "Switchboard", "Switchboard"),
    ("skip", "Skip to content", "跳到正文"),
    ("login", "Log in", "登录"),
    ("logout", "Log out", "退出"),
    ("login_name", "Name or user@domain", "名称或 用户@域名"),
    ("password", "Password", "密码"),
    (
        "login_failed",
        "Wrong name or password.",
        "名称或密码错误。",
    ),
    (
        "login_throttled",
        "Too many failed logins. Try again later.",
        "登录失败次数过多，请稍后再试。",
    ),
    ("dashboard", "Dashboard", "仪表板"),
    ("domains", "Domains", "域名"),
    ("users", "Users", "用户"),
    ("aliases", "Aliases and DIDs", "别名和直拨号码"),
    ("online", "Who is online", "在线设备"),
    ("audit", "Audit log", "审计日志"),
    ("me", "My account", "我的账户"),
    ("registered", "Registered phones", "已注册话机"),
    ("calls_up", "Calls up", "通话中"),
    ("calls_in_setup", "Calls in setup", "呼叫建立中"),
    ("calls_per_minute", "Calls per minute", "每分钟呼叫数"),
    ("failures", "Failures by cause", "按原因统计的失败"),
    ("none", "None", "无"),
    ("status", "Status", "状态码"),
    ("count", "Count", "次数"),
    ("domain", "Domain", "域名"),
    ("user", "User", "用户"),
    ("add", "Add", "添加"),
    ("delete", "Delete", "删除"),
    ("edit", "Edit", "编辑"),
    ("save", "Save", "保存"),
    ("search", "Search", "搜索"),
    ("next_page", "Next page", "下一页"),
    ("first_page", "First page", "第一页"),
    ("add_domain", "Add a domain", "添加域名"),
    ("add_user", "Add a user", "添加用户"),
    ("add_alias", "Add an alias", "添加别名"),
    ("alias", "Alias or DID", "别名或直拨号码"),
    ("target", "Target", "目标"),
    ("new_password", "New password", "新密码"),
    ("reset_password", "Reset the password", "重置密码"),
    ("change_password", "Change my password", "修改我的密码"),
    ("current_password", "Current password", "当前密码"),
    ("password_changed", "Password changed.", "密码已修改。"),
    ("saved", "Saved.", "已保存。"),
    ("confirm_delete", "Really delete", "确定删除"),
    ("cancel", "Cancel", "取消"),
    ("yes_delete", "Yes, delete", "是，删除"),
    ("forwarding", "Call forwarding", "呼叫转移"),
    ("fwd_always", "Always", "无条件"),
    ("fwd_busy", "When busy", "遇忙"),
    ("fwd_no_answer", "When not answered", "无应答"),
    ("fwd_unavailable", "When unavailable", "不可用"),
    ("after_secs", "after (seconds)", "等待（秒）"),
    (
        "fwd_help",
        "A number, user@domain or sip: URI. Empty: off.",
        "号码、用户@域名或 sip: 地址。留空表示关闭。",
    ),
    ("devices", "My devices", "我的设备"),
    ("contact", "Contact", "联系地址"),
    ("user_agent", "User agent", "用户代理"),
    ("address", "Address", "地址"),
    ("expires", "Expires in (s)", "剩余（秒）"),
    ("unregister", "Unregister", "注销"),
    (
        "no_devices",
        "No phone is registered.",
        "没有已注册的话机。",
    ),
    ("when", "When", "时间"),
    ("who", "Who", "操作者"),
    ("from", "From", "来源"),
    ("action", "Action", "操作"),
    ("object", "Object", "对象"),
    ("older", "Older", "更早"),
    ("services", "Services", "业务"),
    ("not_found", "Not found.", "未找到。"),
    ("forbidden", "You may not do that.", "您无权执行此操作。"),
    (
        "bad_form",
        "The form expired: reload the page and try again.",
        "表单已过期，请刷新页面后重试。",
    ),
    ("language", "Language", "语言"),
    (
        "live_note",
        "Refreshes every 5 seconds.",
        "每 5 秒刷新一次。",
    ),
    (
        "import_csv",
        "Import users (CSV: user@domain,password per line)",
        "导入用户（CSV：每行 用户@域名,密码）",
    ),
    ("import", "Import", "导入"),
    ("imported", "Imported", "已导入"),
    ("line", "Line", "行"),
    ("error", "Error", "错误"),
    ("lists", "Find-me and screening", "顺序振铃和呼叫筛选"),
    ("findme", "Find-me: try these in turn", "顺序振铃：依次呼叫"),
    (
        "findme_help",
        "One per line: number, user@domain or sip: URI, then ,seconds to ring (e.g. 2000,15).",
        "每行一个：号码、用户@域名或 sip: 地址，再加 ,振铃秒数（例如 2000,15）。",
    ),
    (
        "screen_help",
        "One per line: user@domain, @domain, a number prefix followed by *, or anonymous.",
        "每行一个：用户@域名、@域名、号码前缀加 *，或 anonymous。",
    ),
    ("screen_in", "Block calls from", "拒绝来自以下的呼叫"),
    ("screen_out", "Block my calls to", "禁止我呼叫以下号码"),
    ("calls", "Call history", "通话记录"),
    ("my_calls", "My calls", "我的通话"),
    ("since", "Since (date or time, UTC)", "起始（日期或时间，UTC）"),
    ("until", "Until", "截止"),
    ("export_csv", "Export as CSV", "导出为 CSV"),
    ("started", "Started (UTC)", "开始时间（UTC）"),
    ("caller", "Caller", "主叫"),
    ("dialled", "Dialled", "被叫号码"),
    ("duration", "Duration (s)", "时长（秒）"),
    ("hangup", "Ended by", "挂断方"),
    ("dial", "Click to dial", "点击拨号"),
    (
        "dial_help",
        "Your phone is asked to call the number: it rings or calls at once, depending on the phone.",
        "服务器请您的话机拨打该号码：话机会振铃或直接呼出，取决于话机。",
    ),
    ("dial_number", "Number, user@domain or sip: URI", "号码、用户@域名或 sip: 地址"),
    ("dial_call", "Call", "呼叫"),
    ("dial_recent", "Called lately", "最近拨打"),
    ("dial_phone", "Your phone", "您的话机"),
    ("dial_again", "Call another number", "拨打其他号码"),
    ("refresh", "Refresh", "刷新"),
    ("dial_referring", "Asking your phone…", "正在请求您的话机…"),
    ("dial_refused", "Your phone refused", "您的话机拒绝了请求"),
    ("dial_accepted", "Your phone accepted; waiting for its call", "您的话机已接受，等待其呼出"),
    ("dial_calling", "Your phone is calling", "您的话机正在呼叫"),
    ("dial_ringing", "Ringing", "对方振铃中"),
    ("dial_answered", "Answered", "已接通"),
    ("dial_failed", "The call failed", "呼叫失败"),
    ("dial_ended", "The call ended", "通话已结束"),
    (
        "dial_no_phone",
        "No phone of yours is registered.",
        "您没有已注册的话机。",
    ),
    ("dial_bad_target", "That is not a number or address.", "这不是有效的号码或地址。"),
    ("dial_busy", "The server could not send the request; try again.", "服务器无法发送请求，请重试。"),
    ("voicemail", "Voicemail", "语音信箱"),
    (
        "no_mailbox",
        "You have no mailbox: your administrator turns voicemail on.",
        "您没有语音信箱：请联系管理员开通。",
    ),
    ("vm_on", "Voicemail is on.", "语音信箱已开启。"),
    ("vm_off", "Voicemail is off: calls do not go to your mailbox.", "语音信箱已关闭：呼叫不会转入信箱。"),
    ("vm_messages", "Messages", "留言"),
    ("vm_new", "new", "新"),
    ("listen", "Listen", "收听"),
    ("vm_greeting", "Greeting", "问候语"),
    ("vm_greeting_own", "Your own greeting plays.", "播放您自己的问候语。"),
    ("vm_greeting_default", "The default greeting plays.", "播放默认问候语。"),
    (
        "vm_upload",
        "Upload a greeting (WAV, at most 5 minutes)",
        "上传问候语（WAV，最长 5 分钟）",
    ),
    ("vm_use_default", "Use the default greeting", "使用默认问候语"),
    ("greeting_saved", "Greeting saved.", "问候语已保存。"),
    ("no_file", "Choose a WAV file.", "请选择一个 WAV 文件。"),
    ("vm_pin", "Mailbox PIN", "信箱密码"),
    ("vm_new_pin", "New PIN (digits)", "新密码（数字）"),
    ("vm_pin_again", "New PIN again", "再次输入新密码"),
    ("pins_differ", "The two PINs differ.", "两次输入的密码不一致。"),
    ("vm_message_of", "the message from", "来自以下的留言："),
    ("account_disabled", "This account is disabled", "此账户已停用"),
    ("enable_user", "Enable the account", "启用账户"),
    ("disable_user", "Disable the account", "停用账户"),
    ("import_file", "A CSV file", "CSV 文件"),
    ("import_progress", "Progress", "进度"),
    ("no_csv_file", "Choose a CSV file with one user@domain,password per line.", "请选择 CSV 文件，每行一个 用户@域名,密码。"),
    ("csv_not_utf8", "The file is not UTF-8 text.", "文件不是 UTF-8 文本。"),
    ("csv_too_long", "The file has more than 100,000 lines: split it.", "文件超过 100,000 行，请拆分。"),
    ("imports_busy", "Too many imports are running; try again when one has finished.", "正在进行的导入过多，请稍后再试。"),
    (
        "disable_reason",
        "Why (optional): its phones are unregistered, its calls and registrations refused",
        "原因（可选）：其话机将被注销，呼叫和注册将被拒绝",
    ),
    ("dial_which_phone", "Which phone calls", "由哪部话机呼叫"),
    // PSTN pages.
    ("gateways", "Gateways", "网关"),
    ("routes", "Routes", "路由"),
    ("dialplan", "Dial plans", "拨号方案"),
    ("trusted", "Trusted peers", "受信任的对端"),
    ("classes", "Permission classes", "权限等级"),
    ("name", "Name", "名称"),
    ("transport", "Transport", "传输协议"),
    ("strip", "Digits stripped", "去除的位数"),
    ("number_prefix", "Prefix", "前缀"),
    ("probe", "Probe", "探测"),
    ("probe_secs", "Seconds between probes", "探测间隔（秒）"),
    ("probe_hint", "0: never probed", "0：不探测"),
    ("tls_verify", "TLS certificate check", "TLS 证书检查"),
    (
        "tls_verify_hint",
        "verify, pin:SHA256 (the certificate's fingerprint) or skip (labs only); TLS only",
        "verify、pin:SHA256（证书指纹）或 skip（仅限实验环境）；仅用于 TLS",
    ),
    ("state", "State", "状态"),
    ("state_up", "up", "正常"),
    ("state_down", "down", "故障"),
    ("state_unknown", "unknown", "未知"),
    ("failed_probes", "Failed probes", "探测失败次数"),
    ("last_answer", "Last answer", "最近应答"),
    ("gw_calls", "Calls", "呼叫数"),
    ("gw_answered", "Answered", "已接通"),
    ("gw_failed", "Failed", "失败"),
    ("health_unknown", "The server did not answer: stored configuration only, health unknown.", "服务器未应答：仅显示已保存的配置，健康状态未知。"),
    ("add_gateway", "Add a gateway", "添加网关"),
    ("routes_help", "Numbers starting with a route's prefix leave through its gateways, tried in order; the longest matching prefix wins. A caller needs the route's class or a higher one.", "以路由前缀开头的号码依次经由其网关呼出；匹配最长前缀的路由优先。主叫需具备该路由的权限等级或更高等级。"),
    ("gateways_in_order", "Gateways, in order", "网关（按顺序）"),
    ("class", "Class", "等级"),
    ("every_domain", "every domain", "所有域名"),
    ("every_domain_hint", "empty: every domain", "留空：所有域名"),
    ("add_route", "Add a route", "添加路由"),
    ("trusted_help", "Requests from these addresses are not challenged (a gateway's inbound calls, a PBX).", "来自这些地址的请求无需认证（网关的呼入、PBX）。"),
    ("gateway", "Gateway", "网关"),
    ("optional", "optional", "可选"),
    ("add_trusted", "Trust an address", "添加受信任地址"),
    ("classes_help", "A user may call the routes of their class and of the classes below it: local, national (everyone's default), international, premium.", "用户可呼叫其等级及更低等级的路由：本地、国内（默认）、国际、付费。"),
    ("set_class", "Set a user's class", "设置用户等级"),
    ("dialplan_help", "Numbers a domain's users dial are rewritten by the first matching rule (lowest priority first) before routing.", "域内用户拨打的号码在路由前按第一条匹配的规则（优先级数值小者优先）改写。"),
    ("priority", "Priority", "优先级"),
    ("priority_hint", "lower first", "数值小者优先"),
    ("pattern", "Match (regular expression)", "匹配（正则表达式）"),
    ("pattern_hint", "e.g. ^0(\\d+)$", "例如 ^0(\\d+)$"),
    ("replacement", "Replacement", "替换为"),
    ("dialplan_test", "Test a number", "测试号码"),
    ("dialled_number", "Number as dialled", "拨打的号码"),
    ("test", "Test", "测试"),
    ("no_match", "no match", "不匹配"),
    ("no_rules", "No rule for this domain: the number is routed as dialled.", "此域名没有规则：号码按原样路由。"),
    ("add_rule", "Add a rule", "添加规则"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_language_chooses() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,zh;q=0.5"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("fr-FR,zh;q=0.3"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("fr"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
    }

    #[test]
    fn every_text_has_both_languages() {
        for (k, en, zh) in TEXTS {
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
        }
        assert_eq!(Lang::Zh.text("users"), "用户");
        assert_eq!(Lang::En.text("no-such-key"), "??");
    }
}
