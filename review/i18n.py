"""The console's message catalogue: Chinese first, English available (?lang=en)."""

LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("QuotaLink 残疾人按比例就业审核台", "QuotaLink quota-employment audit console"),
    "skip": ("跳到正文", "Skip to content"),
    "signin": ("登录", "Sign in"), "signout": ("退出", "Sign out"),
    "username": ("用户名", "Username"), "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误。", "Wrong username or password."),
    "throttled": ("登录失败次数过多，请15分钟后再试。", "Too many failed sign-ins; try again in 15 minutes."),
    "queue": ("待办队列", "Work queue"), "export": ("导出", "Export"), "accounts": ("账户", "Accounts"),
    "api_docs": ("接口文档", "API docs"),
    "flag": ("线索", "Flag"), "rule": ("规则", "Rule"), "year": ("年度", "Year"),
    "severity": ("严重程度", "Severity"), "score": ("评分", "Score"), "status": ("状态", "Status"),
    "city": ("地市", "City"), "assignee": ("承办人", "Assignee"), "active": ("有效", "Active"),
    "person": ("人员", "Person"), "employer": ("用人单位", "Employer"), "levy": ("涉及保障金（元）", "Levy at stake (yuan)"),
    "search": ("搜索", "Search"), "search_hint": ("姓名、单位名称、统一社会信用代码或完整身份证号",
                                             "Name, employer name, USCC or a full ID number"),
    "filter": ("筛选", "Filter"), "all": ("全部", "All"), "yes": ("是", "Yes"), "no": ("否", "No"),
    "total": ("共 {n} 条", "{n} in all"), "page": ("第 {p} / {n} 页", "Page {p} of {n}"),
    "prev": ("上一页", "Previous"), "next": ("下一页", "Next"),
    "open": ("待处理", "Open"), "proposed": ("待复核", "Awaiting sign-off"),
    "confirmed": ("确认", "Confirmed"), "dismissed": ("排除", "Dismissed"), "escalated": ("上报", "Escalated"),
    "high": ("高", "High"), "medium": ("中", "Medium"), "low": ("低", "Low"),
    "claim": ("认领", "Claim"), "assign": ("指派", "Assign"), "unassigned": ("未指派", "Unassigned"),
    "finding": ("发现", "Finding"), "facts": ("事实", "Facts"), "golden_person": ("人员主记录", "Golden person"),
    "golden_employer": ("单位主记录", "Golden employer"), "attribute": ("属性", "Attribute"),
    "value": ("取值", "Value"), "supplied_by": ("来源", "Supplied by"),
    "mentions": ("各来源记录", "Source mentions"), "source": ("来源", "Source"), "delivery": ("批次", "Delivery"),
    "key": ("记录号", "Record key"), "other_flags": ("同一人员或单位的其他线索", "Other flags of the person and employer"),
    "history": ("处理记录", "Decision history"), "no_decision": ("尚无处理记录", "No decision yet"),
    "on_earlier": ("（合并前的线索 {f}）", "(on earlier flag {f})"),
    "why_same": ("为何认定为同一人", "Why these records are one person"),
    "no_edges": ("暂无匹配依据记录（下次运行后生成）。", "No match explanation stored yet (written by the next run)."),
    "not_same": ("不是同一人", "Not the same person"), "same": ("是同一人", "Same person"),
    "other_person": ("另一人员主记录编号", "Other golden person ID"),
    "pending": ("待下次运行生效的人工判定", "Manual links pending until the next run"),
    "cannot_link": ("不是同一人", "Not the same person"), "must_link": ("是同一人", "Same person"),
    "reason": ("理由", "Reason"), "note": ("备注", "Note"), "decide": ("提交处理意见", "Record decision"),
    "decision": ("处理意见", "Decision"), "reviewer": ("处理人", "Reviewer"), "when": ("时间", "When"),
    "four_eyes": ("高严重度线索的确认需另一名复核人签批。", "Confirming a high flag needs a second person's sign-off."),
    "masked_note": ("您的角色只能查看脱敏信息。", "Your role sees personal data masked."),
    "export_queue": ("导出当前队列（Excel）", "Export the current queue (Excel)"),
    "export_decisions": ("导出处理记录（Excel）", "Export decisions (Excel)"),
    "shortcuts": ("快捷键：j/k 上下移动，Enter 打开，n/p 下一条/上一条，1/2/3 选择确认/排除/上报。",
                  "Shortcuts: j/k move, Enter opens, n/p next/previous, 1/2/3 pick confirm/dismiss/escalate."),
    "role": ("角色", "Role"), "display_name": ("姓名", "Name"),
    "viewer": ("查阅员", "Viewer"), "auditor": ("审核员", "Auditor"), "supervisor": ("复核人", "Supervisor"),
    "admin": ("管理员", "Administrator"), "province": ("全省", "Province"),
    "not_found": ("未找到，或不在您的权限范围内。", "Not found, or outside your scope."),
    "forbidden": ("无权执行此操作。", "Not allowed."), "error": ("出错了", "Error"),
    "back": ("返回队列", "Back to the queue"), "sentence": ("结论", "Finding"),
    "seen": ("发现时间", "Seen"), "rule_version": ("规则版本", "Rule version"),
    "reference_tables": ("参考表", "Reference tables"), "flag_id": ("线索编号", "Flag ID"),
    "raw_row": ("原始记录", "Raw row"), "back_to_case": ("返回线索", "Back to the flag"),
    "raw_note": ("该来源记录按报送原样显示（未经标准化）。", "The source record exactly as delivered (not standardised)."),
    "raw_lineage": ("报送批次与行号", "Delivery and row"), "raw_table": ("原始表", "Raw table"),
    "row_ref": ("行号", "Row"), "loaded_at": ("入库时间", "Loaded at"),
    "raw_columns": ("报送字段", "Delivered columns"), "column": ("字段", "Column"),
    "as_delivered": ("报送原值", "As delivered"), "view_raw": ("原始记录", "Raw row"),
    "derived_from_id": ("由身份证号推导", "derived from the ID number"),
    "weight": ("权重", "Weight"), "probability": ("匹配概率", "Match probability"), "link_kind": ("链接类型", "Link kind"),
}

RULES: dict[str, tuple[str, str]] = {
    "MULTI_EMPLOYER": ("多家单位同期申报同一人", "Declared by several employers at once"),
    "NO_SOCIAL_INSURANCE": ("未缴或少缴养老保险", "No or too few pension contributions"),
    "BELOW_MIN_WAGE": ("工资低于最低工资标准", "Wage below the minimum wage"),
    "AGE_INELIGIBLE": ("年龄不符合就业条件", "Age outside working age"),
    "CERT_INVALID": ("残疾人证无效", "No valid disability certificate"),
    "LEVEL_MISMATCH": ("申报残疾等级与登记不符", "Declared level differs from the register"),
    "CONCURRENT_STUDENT": ("在校学生同期申报全日制就业", "Full-time student declared as employed"),
    "CONCURRENT_UNEMPLOYED": ("调查为失业人员", "Interviewed as unemployed"),
    "CIVIL_SERVANT_CONFLICT": ("机关在编人员被其他单位申报", "Organ staff declared by another employer"),
    "SHORT_CONTRACT": ("劳动合同不足一年", "Contract shorter than a year"),
    "DISTANT_RESIDENCE": ("异地户籍、低工资且无社保", "Distant residence, low wage, no contributions"),
    "IMPLAUSIBLE_RATIO": ("申报残疾职工比例不合理", "Implausible ratio of disabled staff"),
    "SHARED_CONTACT": ("同一电话出现在多家单位", "One phone at several employers"),
}


def translator(lang: str):
    """t(key, **fmt) for the language (unknown keys show themselves)."""
    index = 1 if lang == "en" else 0

    def t(key: str, **fmt) -> str:
        pair = MESSAGES.get(key) or RULES.get(key)
        text = pair[index] if pair else key
        return text.format(**fmt) if fmt else text

    return t
