"""Word lists of the demo world: cities, names, products, campaigns, survey comments, and how
often each value of a contract's vocabulary is drawn (the vocabularies themselves are
``loyalty.contracts``'; the shares here are index-aligned with them)."""

from __future__ import annotations

import numpy as np

from loyalty import contracts

# City, share of customers, purchase-frequency multiplier (segments must differ).
CITIES: list[tuple[str, float, float]] = [
    ("上海", 0.16, 1.30),
    ("北京", 0.15, 1.20),
    ("广州", 0.10, 1.05),
    ("深圳", 0.10, 1.15),
    ("杭州", 0.08, 1.10),
    ("成都", 0.08, 0.95),
    ("南京", 0.06, 1.00),
    ("武汉", 0.06, 0.90),
    ("苏州", 0.05, 1.00),
    ("西安", 0.05, 0.85),
    ("重庆", 0.06, 0.85),
    ("天津", 0.05, 0.80),
]
CITY_NAMES = [c[0] for c in CITIES]
CITY_P = np.array([c[1] for c in CITIES]) / sum(c[1] for c in CITIES)
CITY_MULT = np.array([c[2] for c in CITIES])

# Signup / order channels of SOURCES.md ('store','online','wechat'): share, multiplier.
CHANNELS = contracts.ORDER_CHANNELS
CHANNEL_P = np.array([0.40, 0.30, 0.30])
CHANNEL_MULT = np.array([1.00, 0.85, 1.20])

TIERS = contracts.MEMBER_TIERS
TIER_SHARE = np.array([0.45, 0.30, 0.18, 0.07])
TIER_MULT = np.array([1.40, 1.70, 2.10, 2.80])  # purchase frequency against non-members (1.0)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁欣怡婷雪琳晨")
EMAIL_DOMAINS = ["example.com", "example.cn", "example.net", "mail.example.org"]
DISTRICTS = ["中心", "东区", "西区", "南区", "北区", "万达", "万象城", "大悦城", "新天地", "高新", "滨江", "河西", "天河", "福田",
             "南山", "朝阳", "海淀", "徐汇", "静安", "浦东"]

# Product category, share of products, median list price (CNY).
PRODUCT_CATEGORIES: list[tuple[str, float, float]] = [
    ("保健品", 0.25, 168.0),
    ("护肤", 0.20, 128.0),
    ("食品", 0.20, 39.0),
    ("家居", 0.15, 89.0),
    ("母婴", 0.10, 99.0),
    ("服饰", 0.10, 149.0),
]
PRODUCT_WORDS = {
    "保健品": ["维生素C", "鱼油软胶囊", "钙片", "蛋白粉", "益生菌", "叶黄素", "复合维生素", "胶原蛋白肽", "辅酶Q10", "蜂胶"],
    "护肤": ["保湿面霜", "洁面乳", "精华液", "防晒霜", "面膜", "爽肤水", "眼霜", "护手霜", "身体乳", "卸妆油"],
    "食品": ["坚果礼盒", "燕麦片", "红枣", "枸杞", "绿茶", "咖啡豆", "蜂蜜", "黑芝麻糊", "牛肉干", "饼干"],
    "家居": ["收纳箱", "保温杯", "毛巾", "香薰", "抱枕", "餐具套装", "洗衣液", "拖鞋", "床单", "台灯"],
    "母婴": ["纸尿裤", "奶瓶", "婴儿湿巾", "儿童牙刷", "辅食碗", "安抚奶嘴", "婴儿润肤露", "围兜", "爬行垫", "儿童水杯"],
    "服饰": ["T恤", "袜子", "围巾", "帽子", "运动裤", "衬衫", "羽绒背心", "睡衣", "手套", "帆布包"],
}
PRODUCT_BRANDS = ["康源", "悦享", "臻品", "优选", "本味", "安心", "鲜活", "自然堂", "暖家", "初心", "乐活", "润禾"]
PRODUCT_SIZES = ["", "大号", "小号", "家庭装", "旅行装", "礼盒装", "60粒", "120粒", "500g", "1kg"]

CAMPAIGN_TYPES = ("holiday_greeting", "birthday_gift", "health_care", "exclusive_event", "points_bonus")
CAMPAIGN_LABELS = {
    "holiday_greeting": "节日问候",
    "birthday_gift": "生日礼遇",
    "health_care": "健康关怀回访",
    "exclusive_event": "会员专享活动",
    "points_bonus": "积分加倍",
}
CAMPAIGN_CHANNELS = {
    "holiday_greeting": (("sms", "wechat"), (0.5, 0.5)),
    "birthday_gift": (("wechat", "sms"), (0.7, 0.3)),
    "health_care": (("phone", "email"), (0.6, 0.4)),
    "exclusive_event": (("event",), (1.0,)),
    "points_bonus": (("wechat", "sms", "email"), (0.5, 0.3, 0.2)),
}
# Extra orders per treated customer in the 30 days after the touch (the true uplift),
# and the response probability of a treated customer.
CAMPAIGN_UPLIFT = {"holiday_greeting": 0.06, "birthday_gift": 0.25, "health_care": 0.15, "exclusive_event": 0.45,
                   "points_bonus": 0.30}
CAMPAIGN_FIXED_COST = {"holiday_greeting": (2000, 6000), "birthday_gift": (3000, 8000), "health_care": (5000, 12000),
                       "exclusive_event": (15000, 40000), "points_bonus": (2000, 5000)}
REFERRAL_CHANNELS = contracts.REFERRAL_CHANNELS  # 'wechat', 'link', 'code'
REFERRAL_CHANNEL_P = [0.6, 0.25, 0.15]
TOUCH_COST_CENTS = {"sms": 5, "wechat": 2, "email": 1, "phone": 250, "event": 8000}
RESPONSE_P = {"sms": 0.05, "wechat": 0.12, "email": 0.03, "phone": 0.30, "event": 0.45}

TICKET_CATEGORIES = contracts.TICKET_CATEGORIES
TICKET_CHANNELS = contracts.TICKET_CHANNELS
TICKET_SEVERITIES = ("low", "medium", "high")

SURVEY_CHANNELS = contracts.SURVEY_CHANNELS
SURVEY_CHANNEL_P = np.array([0.30, 0.40, 0.10, 0.20])
SAT_LABELS = ("非常不满意", "不满意", "满意", "比较满意", "非常满意")  # index + 1 = digit
INTENT_LABELS = ("很大可能", "可能", "不可能")

COMMENTS_POSITIVE = [
    "很满意，下次还会再来",
    "物流很快，包装也很好",
    "店员服务态度好，耐心解答问题",
    "Great quality, will buy again!",
    "性价比高，推荐给朋友了",
    '店员说"会员日还有折扣"，太好了',
    "Fast delivery, nicely packed, thanks",
    "产品效果不错,家人都喜欢",
    "第二次购买了，一如既往的好\n希望多搞活动",
    'Love it. "Best store in town", as my mum says',
    "小程序下单很方便",
    "Staff were friendly, checkout was quick",
]
COMMENTS_NEUTRAL = [
    "还行吧",
    "一般般，价格有点贵",
    "OK, nothing special",
    "包装可以再改进",
    "希望增加更多的门店自提点",
    "Delivery took 3 days, product is fine",
    "质量还可以，客服回复有点慢",
    "App crashed once, otherwise fine",
]
COMMENTS_NEGATIVE = [
    "快递太慢了，等了一个星期",
    "产品有破损,申请退款很麻烦",
    '客服说"会处理"，结果一直没人回复',
    "Terrible service, I waited 40 minutes in the store",
    "质量变差了\n不会再买了",
    "Refund still not received, very disappointed",
    "和描述不符，差评",
    "投诉了三次才解决，体验很差",
    'Product arrived damaged, "quality check" my foot',
]
LONG_QUOTED_COMMENT = '物流很快，包装也好, "5 stars"\n下次还会再来，推荐给朋友'

INVALID_NPS = ("11", "-1", "8.5", "十", "N/A")
