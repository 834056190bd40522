// Labels in Simplified Chinese and English. t(key, fallback | ...args): {0}, {1} are replaced.
const LANG_KEY = "c360.console.lang";
const L = {
  zh: {
    title: "客户经理工作台 · Customer Graph 360", "lang.other": "English", signout: "退出",
    loading: "加载中…", none: "无", hidden: "您的角色不可见", back: "返回",
    "signin.title": "登录（开发环境）", "signin.hint": "选择角色并填写编号，获取开发令牌。",
    "signin.role": "角色", "signin.submit": "登录", "signin.wait": "正在登录…", "signin.failed": "登录失败",
    "role.relationship_manager": "客户经理", "role.branch_manager": "支行行长", "role.channel_service": "渠道服务",
    "role.customer": "客户", "role.data_engineer": "数据工程师", "role.auditor": "审计", "role.admin": "管理员",
    "claim.employee_id": "员工编号", "claim.branch_id": "支行编号", "claim.customer_id": "客户编号",
    "search.title": "客户搜索", "search.placeholder": "姓名、电话或客户号", "search.label": "搜索客户",
    "search.submit": "搜索", "search.total": "共 {0} 位客户", "page.prev": "上一页", "page.next": "下一页", "page.n": "第",
    "risk.title": "降级风险客户", "risk.detail": "降级与流失风险", "risk.downgrade": "降级风险", "risk.churn": "流失风险",
    "risk.projection": "预计 AUM {0}，门槛 {1}，评估日 {2}",
    "col.id": "客户号", "col.name": "姓名", "col.phone": "电话", "col.email": "邮箱", "col.city": "城市",
    "col.aum": "AUM", "col.tier": "等级", "col.address": "地址", "col.birthYear": "出生年份", "col.idLast4": "证件后四位",
    "col.segment": "客群", "col.status": "状态", "col.rm": "客户经理", "col.household": "家庭",
    "col.account": "账户", "col.product": "产品", "col.role": "持有角色", "col.balance": "余额",
    "col.channel": "渠道", "col.summary": "摘要", "col.severity": "严重程度",
    "id.title": "身份与联系方式", "acc.title": "账户", "value.title": "价值评分", "value.components": "评分构成",
    "value.clv": "客户终身价值", "value.stage": "生命周期", "value.previous": "上期等级",
    "rec.title": "推荐产品", "tl.title": "互动时间线",
    "net.title": "家庭与推荐关系网络", "net.count": "{0} 个节点，{1} 条关系 ", "net.truncated": "已截断",
    "net.restricted": "无权限", "net.referral": "推荐",
    "log.title": "记录跟进", "log.submit": "保存跟进", "log.done": "跟进已记录",
    "complaint.title": "登记投诉", "complaint.submit": "登记投诉", "complaint.opened": "投诉已登记",
    "complaint.resolve": "解决", "complaint.resolution": "处理结果", "complaint.resolved": "投诉已解决",
    "tier.CORE": "核心", "tier.KEY": "重点", "tier.ORDINARY": "普通",
    "risk.HIGH": "高", "risk.MEDIUM": "中", "risk.LOW": "低", "risk.NONE": "无",
    "comp.aum": "资产", "comp.activity": "活跃度", "comp.product_depth": "产品深度", "comp.tenure": "客龄", "comp.influence": "影响力",
    "kind.SERVICE": "服务", "kind.SALES": "销售", "kind.COMPLAINT": "投诉", "kind.FOLLOW_UP": "跟进", "kind.SURVEY": "调研", "kind.CAMPAIGN": "营销",
    "channel.BRANCH": "网点", "channel.PHONE": "电话", "channel.APP": "手机银行", "channel.WEB": "网银",
    "channel.WECHAT": "微信", "channel.SMS": "短信", "channel.EMAIL": "邮件", "channel.VISIT": "上门拜访",
    "sev.MINOR": "一般", "sev.MAJOR": "严重",
    "sla.ON_TRACK": "处理中", "sla.RESPONSE_BREACHED": "响应超时", "sla.RESOLUTION_BREACHED": "解决超时", "sla.MET": "达标", "sla.BREACHED": "超时",
    "hrole.HEAD": "户主", "hrole.SPOUSE": "配偶", "hrole.CHILD": "子女", "hrole.PARENT": "父母", "hrole.OTHER": "其他",
    "hold.PRIMARY": "主持有人", "hold.JOINT": "联名", "hold.AUTHORIZED": "授权", "hold.GUARANTOR": "担保",
    "node.CUSTOMER": "客户", "node.HOUSEHOLD": "家庭", "node.ACCOUNT": "联名账户",
    "err.NOT_FOUND": "未找到该客户（或不在您的权限范围内）", "err.UNAUTHENTICATED": "请重新登录",
    "err.FORBIDDEN": "您的角色无权执行此操作", "err.RATE_LIMITED": "请求过于频繁，请稍后再试",
  },
  en: {
    title: "RM console · Customer Graph 360", "lang.other": "中文", signout: "Sign out",
    loading: "Loading…", none: "None", hidden: "Not visible to your role", back: "Back",
    "signin.title": "Sign in (development)", "signin.hint": "Pick a role and an id to get a development token.",
    "signin.role": "Role", "signin.submit": "Sign in", "signin.wait": "Signing in…", "signin.failed": "Sign-in failed",
    "role.relationship_manager": "Relationship manager", "role.branch_manager": "Branch manager", "role.channel_service": "Channel service",
    "role.customer": "Customer", "role.data_engineer": "Data engineer", "role.auditor": "Auditor", "role.admin": "Admin",
    "claim.employee_id": "Employee id", "claim.branch_id": "Branch id", "claim.customer_id": "Customer id",
    "search.title": "Find a customer", "search.placeholder": "Name, phone or customer id", "search.label": "Search customers",
    "search.submit": "Search", "search.total": "{0} customers", "page.prev": "Previous", "page.next": "Next", "page.n": "page",
    "risk.title": "Customers at risk of downgrade", "risk.detail": "Downgrade and churn risk", "risk.downgrade": "Downgrade risk", "risk.churn": "Churn risk",
    "risk.projection": "Projected AUM {0}, floor {1}, review on {2}",
    "col.id": "Id", "col.name": "Name", "col.phone": "Phone", "col.email": "E-mail", "col.city": "City",
    "col.aum": "AUM", "col.tier": "Tier", "col.address": "Address", "col.birthYear": "Birth year", "col.idLast4": "ID last 4",
    "col.segment": "Segment", "col.status": "Status", "col.rm": "Relationship manager", "col.household": "Household",
    "col.account": "Account", "col.product": "Product", "col.role": "Holder role", "col.balance": "Balance",
    "col.channel": "Channel", "col.summary": "Summary", "col.severity": "Severity",
    "id.title": "Identity and contact", "acc.title": "Accounts", "value.title": "Value score", "value.components": "Score components",
    "value.clv": "Lifetime value", "value.stage": "Lifecycle stage", "value.previous": "Previous tier",
    "rec.title": "Recommendations", "tl.title": "Interaction timeline",
    "net.title": "Household and referral network", "net.count": "{0} nodes, {1} relationships ", "net.truncated": "truncated",
    "net.restricted": "restricted", "net.referral": "referral",
    "log.title": "Log a follow-up", "log.submit": "Save follow-up", "log.done": "Follow-up logged",
    "complaint.title": "Open a complaint", "complaint.submit": "Open complaint", "complaint.opened": "Complaint opened",
    "complaint.resolve": "Resolve", "complaint.resolution": "Resolution", "complaint.resolved": "Complaint resolved",
    "tier.CORE": "Core", "tier.KEY": "Key", "tier.ORDINARY": "Ordinary",
    "risk.HIGH": "High", "risk.MEDIUM": "Medium", "risk.LOW": "Low", "risk.NONE": "None",
    "comp.aum": "AUM", "comp.activity": "Activity", "comp.product_depth": "Product depth", "comp.tenure": "Tenure", "comp.influence": "Influence",
    "kind.SERVICE": "Service", "kind.SALES": "Sales", "kind.COMPLAINT": "Complaint", "kind.FOLLOW_UP": "Follow-up", "kind.SURVEY": "Survey", "kind.CAMPAIGN": "Campaign",
    "channel.BRANCH": "Branch", "channel.PHONE": "Phone", "channel.APP": "App", "channel.WEB": "Web",
    "channel.WECHAT": "WeChat", "channel.SMS": "SMS", "channel.EMAIL": "E-mail", "channel.VISIT": "Visit",
    "sev.MINOR": "Minor", "sev.MAJOR": "Major",
    "sla.ON_TRACK": "On track", "sla.RESPONSE_BREACHED": "Response breached", "sla.RESOLUTION_BREACHED": "Resolution breached", "sla.MET": "Met", "sla.BREACHED": "Breached",
    "hrole.HEAD": "Head", "hrole.SPOUSE": "Spouse", "hrole.CHILD": "Child", "hrole.PARENT": "Parent", "hrole.OTHER": "Other",
    "hold.PRIMARY": "Primary", "hold.JOINT": "Joint", "hold.AUTHORIZED": "Authorized", "hold.GUARANTOR": "Guarantor",
    "node.CUSTOMER": "Customer", "node.HOUSEHOLD": "Household", "node.ACCOUNT": "Joint account",
    "err.NOT_FOUND": "Customer not found (or outside your scope)", "err.UNAUTHENTICATED": "Please sign in again",
    "err.FORBIDDEN": "Your role may not do this", "err.RATE_LIMITED": "Too many requests; retry shortly",
  },
};

export function lang() {
  return sessionStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
}
export function setLang(value) {
  sessionStorage.setItem(LANG_KEY, value);
}
export function t(key, ...args) {
  const text = L[lang()][key];
  if (text === undefined) return args.length && typeof args[0] === "string" ? args[0] : key;
  return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ""));
}
