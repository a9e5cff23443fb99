"""Demo accounts and coherent demo data for the CRM template.

Three parts, kept apart so each can change alone:

* :func:`ensure_people` creates the demo departments, roles and users (one Argon2 hash for the
  shared demo password, not one per user: Argon2 is slow on purpose).
* :class:`Generator` yields :class:`Chunk` s in dependency order: pure data, driven by one seeded
  ``random.Random`` and a fixed ``today``, so a seed always gives the same records.  Rows carry
  the generator's own ids, so links are known while generating: contacts belong to existing
  accounts, quotes to opportunities, line items to quotes and products, closed-won
  opportunities have contracts and orders, payments never exceed their order, activities fall
  between their record's creation and a few weeks ahead, and a converted lead's contact and
  opportunity link back to it (one each).  What is known only later (those back links, lifecycle
  stages, the last contact) comes last, as changes to earlier records.
* :class:`~tessera.platform.demo_loader.ServiceLoader` writes the chunks through the records
  service's bulk path, small and large sets alike.

``load(engine, size=...)`` ties them together; ``tessera demo`` calls it.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa

from tessera.platform import apps, passwords
from tessera.platform.demo_loader import ServiceLoader
from tessera.platform.models import Department, Role, RoleMembership, User

APP = "crm"
DEMO_PASSWORD = "tessera-demo"  # noqa: S105 - the published password of the demo accounts
Row = dict[str, Any]

# -- sizes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    accounts: int
    leads: int
    activities: int
    tickets: int
    tasks: int
    extra_reps: int  # reps beyond the named demo users (large sets spread the work)
    chunk: int = 5000


SIZES = {
    "small": Size(accounts=100, leads=200, activities=600, tickets=60, tasks=80, extra_reps=0),
    "large": Size(
        accounts=20_000,
        leads=100_000,
        activities=1_000_000,
        tickets=20_000,
        tasks=50_000,
        extra_reps=40,
    ),
}

# -- people ---------------------------------------------------------------------------------

#: (key, en, zh-CN) of the roles the CRM template names
ROLES = [
    ("sales_rep", "Sales representative", "销售代表"),
    ("sales_manager", "Sales manager", "销售经理"),
    ("sales_director", "Sales director", "销售总监"),
    ("support_agent", "Support agent", "客服专员"),
    ("finance", "Finance", "财务"),
]
#: (key, name, parent key); the keys only live here
DEPARTMENTS = [
    ("sales", "销售中心 Sales", None),
    ("south", "华南大区 South China sales", "sales"),
    ("east", "华东大区 East China sales", "sales"),
    ("north", "华北大区 North China sales", "sales"),
    ("service", "客服中心 Customer service", None),
    ("finance", "财务部 Finance", None),
]


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    department: str
    role: str
    locale: str = "zh-CN"
    manages: bool = False


#: the named demo accounts; README.md lists them (password: DEMO_PASSWORD)
DEMO_USERS = [
    DemoUser("director@example.com", "王建国", "sales", "sales_director", manages=True),
    DemoUser("manager@example.com", "陈志强", "south", "sales_manager", manages=True),
    DemoUser("rep@example.com", "李明", "south", "sales_rep"),
    DemoUser("rep2@example.com", "张伟", "south", "sales_rep"),
    DemoUser("manager.east@example.com", "周丽华", "east", "sales_manager", manages=True),
    DemoUser("rep.east@example.com", "Emily Chen", "east", "sales_rep", locale="en"),
    DemoUser("rep3@example.com", "刘洋", "east", "sales_rep"),
    DemoUser("manager.north@example.com", "赵磊", "north", "sales_manager", manages=True),
    DemoUser("rep.north@example.com", "James Walker", "north", "sales_rep", locale="en"),
    DemoUser("support@example.com", "刘芳", "service", "support_agent", manages=True),
    DemoUser("support2@example.com", "Sarah Lin", "service", "support_agent", locale="en"),
    DemoUser("finance@example.com", "赵静", "finance", "finance", manages=True),
]


@dataclass(frozen=True)
class People:
    """Demo user ids by what they do, for the generator."""

    reps: dict[str, list[int]]  # region key (south/east/north) -> rep ids
    managers: list[int]
    support: list[int]
    finance: list[int]

    @property
    def all_reps(self) -> list[int]:
        return [r for ids in self.reps.values() for r in ids]


def ensure_people(engine: sa.Engine, size: str = "small") -> People:
    """Create the demo departments, roles and users that do not exist yet (idempotent)."""
    extra = SIZES[size].extra_reps
    wanted = list(DEMO_USERS)
    regions = ["south", "east", "north"]
    rng = random.Random(7)  # noqa: S311 - demo names, not secrets
    for i in range(extra):
        name = _chinese_name(rng)[0]
        wanted.append(DemoUser(f"rep{i + 10}@example.com", name, regions[i % 3], "sales_rep"))
    password_hash: str | None = None
    with engine.begin() as conn:
        dept_ids: dict[str, int] = {}
        for key, name, parent in DEPARTMENTS:
            found = conn.scalar(sa.select(Department.id).where(Department.name == name))
            if found is None:
                found = conn.execute(
                    sa.insert(Department)
                    .values(name=name, parent_id=dept_ids.get(parent) if parent else None)
                    .returning(Department.id)
                ).scalar_one()
            dept_ids[key] = int(found)
        role_ids: dict[str, int] = {}
        for key, en, zh in ROLES:
            found = conn.scalar(sa.select(Role.id).where(Role.key == key))
            if found is None:
                found = conn.execute(
                    sa.insert(Role)
                    .values(key=key, label={"en": en, "zh-CN": zh})
                    .returning(Role.id)
                ).scalar_one()
            role_ids[key] = int(found)
        people = People({r: [] for r in regions}, [], [], [])
        for user in wanted:
            user_id = conn.scalar(sa.select(User.id).where(User.email == user.email))
            if user_id is None:
                password_hash = password_hash or passwords.hash_password(DEMO_PASSWORD)
                user_id = conn.execute(
                    sa.insert(User)
                    .values(
                        email=user.email,
                        name=user.name,
                        password_hash=password_hash,
                        platform_role="member",
                        locale=user.locale,
                        time_zone="Asia/Shanghai",
                        is_active=True,
                        department_id=dept_ids[user.department],
                    )
                    .returning(User.id)
                ).scalar_one()
                conn.execute(
                    sa.insert(RoleMembership).values(user_id=user_id, role_id=role_ids[user.role])
                )
                if user.manages:
                    conn.execute(
                        sa.update(Department)
                        .where(Department.id == dept_ids[user.department])
                        .values(manager_id=user_id)
                    )
            uid = int(user_id)
            if user.role == "sales_rep":
                people.reps[user.department].append(uid)
            elif user.role in ("sales_manager", "sales_director"):
                people.managers.append(uid)
            elif user.role == "support_agent":
                people.support.append(uid)
            else:
                people.finance.append(uid)
    return people


# -- names ----------------------------------------------------------------------------------

#: (city, province, region key of the CRM's region field)
CITIES = [
    ("深圳", "广东", "south"),
    ("广州", "广东", "south"),
    ("东莞", "广东", "south"),
    ("佛山", "广东", "south"),
    ("厦门", "福建", "south"),
    ("福州", "福建", "south"),
    ("上海", "上海", "east"),
    ("苏州", "江苏", "east"),
    ("无锡", "江苏", "east"),
    ("南京", "江苏", "east"),
    ("杭州", "浙江", "east"),
    ("宁波", "浙江", "east"),
    ("合肥", "安徽", "east"),
    ("青岛", "山东", "east"),
    ("北京", "北京", "north"),
    ("天津", "天津", "north"),
    ("石家庄", "河北", "north"),
    ("武汉", "湖北", "central"),
    ("长沙", "湖南", "central"),
    ("郑州", "河南", "central"),
    ("成都", "四川", "southwest"),
    ("重庆", "重庆", "southwest"),
    ("西安", "陕西", "northwest"),
    ("沈阳", "辽宁", "northeast"),
    ("大连", "辽宁", "northeast"),
]
OVERSEAS = ["Singapore", "Hamburg", "Chicago", "Osaka", "Dubai", "Melbourne", "Bangkok", "Milan"]
BRAND_1 = "华恒联中瑞金鼎宏博新天永东精卓海明凯远嘉润同启泰安德利信盛鑫兴隆昌达创科通耀宇辰"
BRAND_2 = "信通创科丰桥盛达远航合兴方工越川阳瑞景禾泽明拓和源力诚威邦锐"
#: industry key -> words used in Chinese and English company names
INDUSTRY_WORDS = {
    "manufacturing": ("精密制造", "Manufacturing"),
    "electronics": ("电子科技", "Electronics"),
    "automotive": ("汽车零部件", "Auto Parts"),
    "machinery": ("机械设备", "Machinery"),
    "chemicals": ("化工", "Chemicals"),
    "medical": ("医疗器械", "Medical"),
    "construction": ("建设工程", "Construction"),
    "energy": ("新能源", "Energy"),
    "retail": ("商贸", "Trading"),
    "logistics": ("物流", "Logistics"),
    "it_services": ("信息技术", "Systems"),
    "food": ("食品", "Foods"),
    "textiles": ("纺织", "Textiles"),
}
COMPANY_SUFFIX = ["有限公司", "有限公司", "股份有限公司", "集团有限公司"]
EN_BRANDS = [
    "Northwind",
    "Bluestone",
    "Summit",
    "Apex",
    "Harbor",
    "Redwood",
    "Silverline",
    "Ironbridge",
    "Clearwater",
    "Evergreen",
    "Pinnacle",
    "Lakeside",
    "Westfield",
    "Brightpath",
    "Oakridge",
    "Stonegate",
    "Highland",
    "Riverbend",
    "Crestview",
    "Goldleaf",
]
EN_SUFFIX = ["Ltd.", "Inc.", "GmbH", "Co., Ltd.", "Pte. Ltd."]
#: (surname, pinyin)
SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("田", "tian"),
    ("董", "dong"),
    ("潘", "pan"),
    ("袁", "yuan"),
    ("蒋", "jiang"),
    ("蔡", "cai"),
    ("余", "yu"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("苏", "su"),
    ("魏", "wei"),
    ("吕", "lv"),
    ("丁", "ding"),
    ("沈", "shen"),
    ("姚", "yao"),
    ("钟", "zhong"),
]
#: (given name, pinyin, gender)
GIVEN = [
    ("伟", "wei", "male"),
    ("强", "qiang", "male"),
    ("磊", "lei", "male"),
    ("军", "jun", "male"),
    ("勇", "yong", "male"),
    ("杰", "jie", "male"),
    ("涛", "tao", "male"),
    ("超", "chao", "male"),
    ("明", "ming", "male"),
    ("刚", "gang", "male"),
    ("鹏", "peng", "male"),
    ("斌", "bin", "male"),
    ("志强", "zhiqiang", "male"),
    ("建华", "jianhua", "male"),
    ("晓东", "xiaodong", "male"),
    ("文博", "wenbo", "male"),
    ("浩然", "haoran", "male"),
    ("俊杰", "junjie", "male"),
    ("宇航", "yuhang", "male"),
    ("建国", "jianguo", "male"),
    ("立新", "lixin", "male"),
    ("振华", "zhenhua", "male"),
    ("海涛", "haitao", "male"),
    ("国栋", "guodong", "male"),
    ("芳", "fang", "female"),
    ("娜", "na", "female"),
    ("敏", "min", "female"),
    ("静", "jing", "female"),
    ("丽", "li", "female"),
    ("艳", "yan", "female"),
    ("娟", "juan", "female"),
    ("霞", "xia", "female"),
    ("琳", "lin", "female"),
    ("婷婷", "tingting", "female"),
    ("秀英", "xiuying", "female"),
    ("海燕", "haiyan", "female"),
    ("雨婷", "yuting", "female"),
    ("佳怡", "jiayi", "female"),
    ("欣怡", "xinyi", "female"),
    ("梓萱", "zixuan", "female"),
    ("丽华", "lihua", "female"),
    ("春梅", "chunmei", "female"),
    ("晓燕", "xiaoyan", "female"),
    ("慧敏", "huimin", "female"),
]
EN_FIRST = [
    ("James", "male"),
    ("Michael", "male"),
    ("David", "male"),
    ("Daniel", "male"),
    ("Thomas", "male"),
    ("Lukas", "male"),
    ("Kenji", "male"),
    ("Arjun", "male"),
    ("Emma", "female"),
    ("Olivia", "female"),
    ("Sophia", "female"),
    ("Hannah", "female"),
    ("Laura", "female"),
    ("Yuki", "female"),
    ("Priya", "female"),
    ("Grace", "female"),
]
EN_LAST = [
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Miller",
    "Wilson",
    "Müller",
    "Schmidt",
    "Tanaka",
    "Sato",
    "Sharma",
    "Tan",
    "Lee",
    "Wong",
    "Rossi",
    "Walker",
]
JOB_TITLES = [
    ("总经理", "General Manager", "decision_maker"),
    ("副总经理", "Deputy GM", "decision_maker"),
    ("采购经理", "Purchasing Manager", "purchaser"),
    ("采购专员", "Buyer", "purchaser"),
    ("技术总监", "CTO", "influencer"),
    ("设备部经理", "Equipment Manager", "influencer"),
    ("生产经理", "Production Manager", "user"),
    ("工程师", "Engineer", "user"),
    ("财务经理", "Finance Manager", "finance"),
    ("总经理助理", "Assistant to the GM", "gatekeeper"),
]
#: (code, name, category, unit, list price)
PRODUCTS = [
    ("SV-400W", "伺服电机 SV-400W", "equipment", "unit", 1850),
    ("SV-750W", "伺服电机 SV-750W", "equipment", "unit", 2680),
    ("SV-2KW", "伺服电机 SV-2KW", "equipment", "unit", 5200),
    ("SD-750", "伺服驱动器 SD-750", "equipment", "unit", 2300),
    ("VF-5R5", "通用变频器 VF-5.5kW", "equipment", "unit", 3100),
    ("VF-22K", "通用变频器 VF-22kW", "equipment", "unit", 9800),
    ("CP-1200", "PLC 控制器 CP-1200", "equipment", "unit", 4600),
    ("CP-1500", "PLC 控制器 CP-1500", "equipment", "unit", 12800),
    ("IO-16DI", "数字量输入模块 IO-16DI", "component", "pcs", 680),
    ("IO-16DO", "数字量输出模块 IO-16DO", "component", "pcs", 720),
    ("AI-8", "模拟量输入模块 AI-8", "component", "pcs", 1350),
    ("HMI-7", "工业触摸屏 HMI-7 英寸", "equipment", "unit", 1980),
    ("HMI-10", "工业触摸屏 HMI-10 英寸", "equipment", "unit", 3280),
    ("PS-30", "光电传感器 PS-30", "component", "pcs", 165),
    ("PX-12", "接近开关 PX-12", "component", "pcs", 88),
    ("EN-1024", "增量编码器 EN-1024", "component", "pcs", 560),
    ("CB-5M", "伺服电缆 CB-5 米", "consumable", "pcs", 210),
    ("CB-10M", "伺服电缆 CB-10 米", "consumable", "pcs", 360),
    ("FLT-20", "滤波器 FLT-20A", "component", "pcs", 430),
    ("RB-6", "六轴机器人 RB-6", "equipment", "set", 168000),
    ("RB-20", "六轴机器人 RB-20", "equipment", "set", 246000),
    ("CV-L3", "输送线模组 CV-L3", "equipment", "set", 38500),
    ("VS-200", "视觉检测系统 VS-200", "equipment", "set", 56000),
    ("GR-40", "电动夹爪 GR-40", "component", "pcs", 4200),
    ("MES-LIC", "MES 软件许可（每站点）", "software", "year", 88000),
    ("SCADA-LIC", "SCADA 软件许可", "software", "pcs", 26000),
    ("SRV-INS", "安装调试服务", "service", "hour", 450),
    ("SRV-AMC", "年度维保服务", "service", "year", 18000),
    ("SRV-TRN", "操作培训（每人天）", "service", "pcs", 1200),
    ("SP-KIT", "常用备件包", "consumable", "set", 3600),
]
PRICE_BOOKS = [
    ("标准价格表 Standard", "direct", Decimal(1), True),
    ("经销商价格表 Distributors", "distributor", Decimal("0.85"), False),
    ("大客户价格表 Key accounts", "key_account", Decimal("0.92"), False),
]
SOURCES = [
    "website",
    "trade_show",
    "referral",
    "cold_call",
    "advertising",
    "wechat",
    "b2b_platform",
    "partner",
    "email_campaign",
]
CAMPAIGNS = [
    ("2024 工博会（上海）", "expo", "offline", "ciif2024"),
    ("百度搜索 伺服电机", "baidu", "cpc", "servo_search"),
    ("微信公众号 智能制造白皮书", "wechat", "social", "whitepaper"),
    ("1688 店铺询盘", "1688", "marketplace", "shop"),
    ("Hannover Messe", "linkedin", "social", "hannover"),
    ("春季经销商大会", "partner", "event", "dealer_spring"),
]
OPPORTUNITY_NAMES = [
    "产线自动化改造",
    "伺服系统升级",
    "新工厂设备采购",
    "MES 项目",
    "年度备件采购",
    "Robot cell",
]
STAGES = ["qualification", "needs_analysis", "proposal", "negotiation", "won", "lost"]
LOST_REASONS = ["price", "competitor", "no_budget", "no_decision", "product_fit", "relationship"]
COMPETITORS = ["汇川技术", "台达", "西门子", "三菱电机", "安川", "欧姆龙", "本地小厂"]
ACTIVITY_SUBJECTS = {
    "call": ["电话沟通需求", "电话回访", "Follow-up call", "确认报价细节", "催款电话"],
    "meeting": ["方案评审会", "技术交流会", "Kick-off meeting", "商务谈判"],
    "email": ["发送产品资料", "发送报价单", "Sent the proposal", "邮件确认交期"],
    "visit": ["上门拜访", "现场勘察", "Site visit", "陪同客户参观工厂"],
    "note": ["客户反馈记录", "竞争对手情况", "Internal note", "决策链梳理"],
}
TICKET_SUBJECTS = [
    ("installation", "设备安装调试申请"),
    ("repair", "伺服驱动器报警 AL.020"),
    ("repair", "Encoder signal lost on axis 2"),
    ("complaint", "交货延迟投诉"),
    ("consultation", "PLC 程序下载失败咨询"),
    ("return", "来料破损申请退换"),
    ("spare_parts", "备件报价与交期"),
    ("training", "新员工操作培训预约"),
    ("consultation", "How to update the HMI firmware"),
    ("repair", "变频器过流跳闸"),
]
#: priority -> (first response hours, resolution hours)
SLA_HOURS = {"urgent": (1, 8), "high": (4, 24), "normal": (8, 72), "low": (24, 120)}


def _chinese_name(rng: random.Random) -> tuple[str, str, str]:
    """(name, email local part, gender): 王伟, wei.wang, male."""
    surname, s_py = rng.choice(SURNAMES)
    given, g_py, gender = rng.choice(GIVEN)
    return surname + given, f"{g_py}.{s_py}", gender


def _english_name(rng: random.Random) -> tuple[str, str, str]:
    first, gender = rng.choice(EN_FIRST)
    last = rng.choice(EN_LAST)
    return f"{first} {last}", f"{first}.{last}".lower().replace("ü", "ue"), gender


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(["138", "139", "158", "186", "136", "137", "150", "188", "177", "189"])
    return prefix + "".join(rng.choice("0123456789") for _ in range(8))


def _money(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- generation -----------------------------------------------------------------------------


class Chunk(NamedTuple):
    """Rows of one entity: new records (with the generator's ids, which links use), or, with
    ``update``, changes ``{"id": ..., field: value}`` to records written earlier."""

    entity: str
    rows: list[Row]
    update: bool = False


class Generator:
    """Rows for every CRM entity, chunk by chunk, in dependency order."""

    def __init__(
        self,
        size: Size,
        people: People,
        *,
        seed: int,
        today: dt.date,
    ) -> None:
        self.size = size
        self.people = people
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.today = today
        self.now = dt.datetime.combine(today, dt.time(18, 0), tzinfo=dt.UTC)
        self.ids: dict[str, int] = {}
        # what later entities link to
        self.accounts: list[dict[str, Any]] = []  # id, created, owner, region, tier, book
        self.contacts_of: dict[int, list[int]] = {}
        self.opps_of: dict[int, list[int]] = {}
        self.opp_created: dict[int, dt.datetime] = {}
        # id, created, owner, last contact (None: never contacted)
        self.lead_created: list[tuple[int, dt.datetime, int | None, dt.datetime | None]] = []
        # conversions: a converted lead's contact and opportunity link back to it, one each
        self.claimed_contacts: set[int] = set()
        self.contact_sources: dict[int, int] = {}  # contact -> lead
        self.leads_to_place: dict[int, list[int]] = {}  # account -> converted leads, no opp yet
        self.lead_opps: dict[int, int] = {}  # lead -> opportunity
        # the latest done activity per account (its "last activity")
        self.last_done: dict[int, dt.datetime] = {}
        self.orders: list[tuple[int, int, dt.date, Decimal]] = []  # id, account, date, amount
        self.price_books: list[tuple[int, Decimal]] = []

    @property
    def owned_accounts(self) -> list[dict[str, Any]]:
        if not hasattr(self, "_owned"):
            self._owned = [a for a in self.accounts if a["owner"] is not None] or self.accounts
        return self._owned

    # helpers
    def _id(self, entity: str) -> int:
        self.ids[entity] = self.ids.get(entity, 0) + 1
        return self.ids[entity]

    def _moment(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        """A working-hours moment between ``start`` and ``end`` (China time, stored in UTC)."""
        span = max(int((end - start).total_seconds()), 3600)
        moment = start + dt.timedelta(seconds=self.rng.randrange(span))
        # 9:00-18:00 in UTC+8 is 01:00-10:00 UTC
        moment = moment.replace(
            hour=self.rng.randint(1, 9),
            minute=self.rng.choice((0, 15, 30, 45)),
            second=0,
            microsecond=0,
        )
        return min(max(moment, start), max(end, start))

    def _system(self, row_id: int, owner: int | None, created: dt.datetime) -> Row:
        return {
            "id": row_id,
            "owner_id": owner,
            "created_by": owner,
            "updated_by": owner,
            "created_at": created,
            "updated_at": created,
        }

    def _chunks(self, rows: Iterator[Row]) -> Iterator[list[Row]]:
        chunk: list[Row] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= self.size.chunk:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _rep(self, region: str) -> int:
        reps = self.people.reps.get(region) or self.people.all_reps
        return self.rng.choice(reps)

    # the whole set
    def chunks(self) -> Iterator[Chunk]:
        steps: list[tuple[str, Callable[[], Iterator[Row]]]] = [
            ("product", self.products),
            ("price_book", self.price_book_rows),
            ("price_entry", self.price_entries),
            ("account", self.account_rows),
            ("contact", self.contact_rows),
            ("lead", self.lead_rows),
        ]
        for entity, make in steps:
            for chunk in self._chunks(make()):
                yield Chunk(entity, chunk)
        # opportunities and everything that follows a sale are made account by account
        sales: dict[str, list[Row]] = {}
        order = ["opportunity", "quote", "quote_item", "contract", "order", "payment"]
        for entity, row in self.sales_rows():
            bucket = sales.setdefault(entity, [])
            bucket.append(row)
            if len(bucket) >= self.size.chunk and entity == "opportunity":
                # flush in dependency order so links always point at inserted rows
                for name in order:
                    if sales.get(name):
                        yield Chunk(name, sales.pop(name))
        for name in order:
            if sales.get(name):
                yield Chunk(name, sales.pop(name))
        for entity, make in (
            ("ticket", self.ticket_rows),
            ("activity", self.activity_rows),
            ("task", self.task_rows),
        ):
            for chunk in self._chunks(make()):
                yield Chunk(entity, chunk)
        for entity, rows in self.updates():
            for chunk in self._chunks(iter(rows)):
                yield Chunk(entity, chunk, update=True)

    def updates(self) -> Iterator[tuple[str, list[Row]]]:
        """What is known only once later records exist, as changes to earlier ones: the
        contacts converted leads became, the leads' opportunities and last contact, the
        accounts' lifecycle stage and last activity."""
        yield (
            "contact",
            [
                {"id": contact, "source_lead": lead}
                for contact, lead in sorted(self.contact_sources.items())
            ],
        )
        yield (
            "lead",
            [{"id": lead, "converted_opp": opp} for lead, opp in sorted(self.lead_opps.items())],
        )
        accounts: dict[int, Row] = {}
        for account in self.accounts:
            if account["stage"] != "prospect":
                accounts[account["id"]] = {"id": account["id"], "lifecycle_stage": account["stage"]}
        for key, moment in self.last_done.items():
            accounts.setdefault(key, {"id": key})["last_activity_at"] = moment
        yield "account", [accounts[k] for k in sorted(accounts)]

    def products(self) -> Iterator[Row]:
        created = self.now - dt.timedelta(days=800)
        for code, name, category, unit, price in PRODUCTS:
            row_id = self._id("product")
            yield {
                **self._system(row_id, self.people.managers[0], created),
                "name": name,
                "code": code,
                "category": category,
                "spec": code,
                "unit": unit,
                "list_price": _money(price),
                "cost": _money(Decimal(price) * Decimal("0.62")),
                "tax_rate": Decimal(6 if category in ("service", "software") else 13),
                "active": True,
            }

    def price_book_rows(self) -> Iterator[Row]:
        created = self.now - dt.timedelta(days=790)
        for name, channel, factor, default in PRICE_BOOKS:
            row_id = self._id("price_book")
            self.price_books.append((row_id, factor))
            yield {
                **self._system(row_id, self.people.managers[0], created),
                "name": name,
                "channel": channel,
                "valid_from": dt.date(self.today.year - 2, 1, 1),
                "valid_to": dt.date(self.today.year + 1, 12, 31),
                "is_default": default,
                "active": True,
            }

    def price_entries(self) -> Iterator[Row]:
        created = self.now - dt.timedelta(days=790)
        for book_id, factor in self.price_books:
            for product_id, (_, _, _, _, price) in enumerate(PRODUCTS, start=1):
                yield {
                    **self._system(self._id("price_entry"), self.people.managers[0], created),
                    "parent_id": book_id,
                    "sort_order": product_id,
                    "product": product_id,
                    "unit_price": _money(Decimal(price) * factor),
                    "min_quantity": Decimal(1 if factor == 1 else 10),
                }

    def account_rows(self) -> Iterator[Row]:
        rng, used = self.rng, set()
        industries = list(INDUSTRY_WORDS)
        for _ in range(self.size.accounts):
            row_id = self._id("account")
            industry = rng.choice(industries)
            overseas = rng.random() < 0.08
            for _attempt in range(1000):
                if overseas:
                    city, province, region = rng.choice(OVERSEAS), "", "overseas"
                    name = (
                        f"{rng.choice(EN_BRANDS)} {INDUSTRY_WORDS[industry][1]} "
                        f"{rng.choice(EN_SUFFIX)}"
                    )
                else:
                    city, province, region = rng.choice(CITIES)
                    brand = rng.choice(BRAND_1) + rng.choice(BRAND_2)
                    prefix = city if rng.random() < 0.5 else f"{city}市"
                    name = (
                        f"{prefix}{brand}{INDUSTRY_WORDS[industry][0]}{rng.choice(COMPANY_SUFFIX)}"
                    )
                if name not in used:
                    break
            else:
                name = f"{name} {row_id}"
            used.add(name)
            created = self.now - dt.timedelta(days=rng.randint(30, 730), hours=rng.randint(0, 9))
            size_key = rng.choices(
                ["micro", "small", "medium", "large", "enterprise"], [20, 35, 28, 12, 5]
            )[0]
            employees = {
                "micro": (10, 49),
                "small": (50, 199),
                "medium": (200, 999),
                "large": (1000, 4999),
                "enterprise": (5000, 60000),
            }[size_key]
            staff = rng.randint(*employees)
            tier = rng.choices(["a", "b", "c", "d"], [5, 15, 50, 30])[0]
            account_type = rng.choices(
                ["end_customer", "distributor", "agent", "oem", "partner"], [60, 18, 8, 10, 4]
            )[0]
            in_pool = rng.random() < 0.08
            owner = None if in_pool else self._rep(region if region in self.people.reps else "")
            book = {"distributor": 2, "agent": 2}.get(account_type, 3 if tier == "a" else 1)
            parent = None
            if self.accounts and rng.random() < 0.05:
                parent = rng.choice(self.accounts)["id"]
            self.accounts.append(
                {
                    "id": row_id,
                    "created": created,
                    "owner": owner,
                    "region": region,
                    "tier": tier,
                    "book": book,
                    "stage": "prospect",
                    "leads": [],
                }
            )
            code = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(16))
            yield {
                **self._system(row_id, owner, created),
                "name": name,
                "short_name": name[len(city) : len(city) + 4] if not overseas else name.split()[0],
                "credit_code": None if overseas else f"91{code}",
                "account_type": account_type,
                "industry": industry,
                "size": size_key,
                "employees": staff,
                "annual_revenue": _money(staff * rng.randint(300_000, 1_500_000)),
                "tier": tier,
                "lifecycle_stage": "prospect",
                "parent_account": parent,
                "region": region,
                "province": province or None,
                "city": city,
                "address": None
                if overseas
                else f"{city}{rng.choice(['高新区', '经开区', '工业园'])}{rng.randint(1, 99)}号",
                "phone": f"0{rng.randint(10, 999)}-{rng.randint(6000000, 89999999)}",
                "website": f"https://www.example-{row_id}.com.cn",
                "source": rng.choice(SOURCES),
                "in_public_pool": in_pool,
                "pool_entered_at": self.now - dt.timedelta(days=rng.randint(1, 90))
                if in_pool
                else None,
            }

    def contact_rows(self) -> Iterator[Row]:
        rng = self.rng
        for account in self.accounts:
            overseas = account["region"] == "overseas"
            ids = self.contacts_of.setdefault(account["id"], [])
            for n in range(rng.choices([1, 2, 3, 4, 5], [15, 30, 30, 15, 10])[0]):
                row_id = self._id("contact")
                ids.append(row_id)
                name, local, gender = (_english_name if overseas else _chinese_name)(rng)
                title_zh, title_en, role = rng.choice(JOB_TITLES)
                created = account["created"] + dt.timedelta(days=rng.randint(0, 20) + n)
                consent = rng.choices(["unknown", "granted", "withdrawn"], [50, 42, 8])[0]
                yield {
                    **self._system(row_id, account["owner"], created),
                    "name": name,
                    "account": account["id"],
                    "job_title": title_en if overseas else title_zh,
                    "role": role,
                    "is_primary": n == 0,
                    "gender": gender,
                    "mobile": None if overseas else _mobile(rng),
                    "email": f"{local}@example-{account['id']}.com.cn",
                    "wechat": None if overseas or rng.random() < 0.4 else f"wx_{local}",
                    "consent": consent,
                    "consent_at": created if consent != "unknown" else None,
                    "do_not_contact": consent == "withdrawn",
                    "do_not_email": consent == "withdrawn" or rng.random() < 0.03,
                }

    def lead_rows(self) -> Iterator[Row]:
        rng = self.rng
        industries = list(INDUSTRY_WORDS)
        for _ in range(self.size.leads):
            row_id = self._id("lead")
            overseas = rng.random() < 0.06
            name, local, _gender = (_english_name if overseas else _chinese_name)(rng)
            city, province, region = (
                (rng.choice(OVERSEAS), None, "overseas") if overseas else rng.choice(CITIES)
            )
            industry = rng.choice(industries)
            created = self.now - dt.timedelta(days=rng.randint(0, 365), hours=rng.randint(0, 9))
            status = rng.choices(
                ["new", "contacted", "qualified", "unqualified", "converted"], [25, 30, 15, 18, 12]
            )[0]
            in_pool = status in ("new", "contacted") and rng.random() < 0.25
            owner = None if in_pool else self._rep(region)
            converted: dict[str, Any] | None = None
            contact: int | None = None
            if status == "converted":
                converted, contact = self._conversion(rng)
                if converted is None:  # every contact is some lead's already
                    status = "qualified"
            if converted is not None and contact is not None:
                owner = converted["owner"]
                created = min(created, converted["created"])
                self.claimed_contacts.add(contact)
                self.contact_sources[contact] = row_id
                self.leads_to_place.setdefault(converted["id"], []).append(row_id)
            source = rng.choice(SOURCES)
            campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.6 else None
            brand = rng.choice(BRAND_1) + rng.choice(BRAND_2)
            company = (
                f"{rng.choice(EN_BRANDS)} {INDUSTRY_WORDS[industry][1]} Ltd."
                if overseas
                else f"{city}{brand}{INDUSTRY_WORDS[industry][0]}有限公司"
            )
            last_contact = self._moment(created, self.now) if status != "new" else None
            self.lead_created.append((row_id, created, owner, last_contact))
            yield {
                **self._system(row_id, owner, created),
                "name": name,
                "company": company,
                "job_title": rng.choice(JOB_TITLES)[1 if overseas else 0],
                "mobile": None if overseas else _mobile(rng),
                "email": f"{local}@example-lead-{row_id}.com",
                "status": status,
                "score": rng.randint(60, 100)
                if status in ("qualified", "converted")
                else rng.randint(0, 70),
                "source": source,
                "campaign": campaign[0] if campaign else None,
                "utm_source": campaign[1] if campaign else None,
                "utm_medium": campaign[2] if campaign else None,
                "utm_campaign": campaign[3] if campaign else None,
                "region": region,
                "province": province,
                "city": city,
                "industry": industry,
                "last_contact_at": last_contact,
                "next_follow_up": self.today + dt.timedelta(days=rng.randint(1, 21))
                if status in ("new", "contacted", "qualified") and not in_pool
                else None,
                "in_public_pool": in_pool,
                "pool_entered_at": self._moment(created, self.now) if in_pool else None,
                "pool_reason": rng.choice(["no_follow_up", "returned", "unassigned"])
                if in_pool
                else None,
                "unqualified_reason": rng.choice(
                    ["no_need", "no_budget", "wrong_contact", "duplicate"]
                )
                if status == "unqualified"
                else None,
                "converted_account": converted["id"] if converted else None,
                "converted_contact": contact,
                "converted_at": converted["created"] if converted else None,
            }

    def _conversion(self, rng: random.Random) -> tuple[dict[str, Any] | None, int | None]:
        """An owned account and one of its contacts no other lead became (a few tries)."""
        for _attempt in range(20):
            account = rng.choice(self.owned_accounts)
            contacts = self.contacts_of.get(account["id"], ())
            free = [c for c in contacts if c not in self.claimed_contacts]
            if free:
                return account, free[0]
        return None, None

    def sales_rows(self) -> Iterator[tuple[str, Row]]:
        """Opportunities, with quotes and line items; won ones get a contract, orders, payments."""
        rng = self.rng
        for account in self.accounts:
            if account["owner"] is None:
                continue
            n = rng.choices([0, 1, 2, 3], [25, 45, 20, 10])[0]
            for _ in range(n):
                yield from self._opportunity(account, rng)

    def _opportunity(
        self, account: dict[str, Any], rng: random.Random
    ) -> Iterator[tuple[str, Row]]:
        opp_id = self._id("opportunity")
        self.opps_of.setdefault(account["id"], []).append(opp_id)
        created = self._moment(account["created"], self.now - dt.timedelta(days=5))
        self.opp_created[opp_id] = created
        age = (self.now - created).days
        if age > 120:
            stage = rng.choices(STAGES, [3, 3, 6, 6, 45, 37])[0]
        else:
            stage = rng.choices(STAGES, [25, 22, 20, 13, 12, 8])[0]
        closed = stage in ("won", "lost")
        closed_on = (
            (created + dt.timedelta(days=rng.randint(20, max(21, min(age, 180))))).date()
            if closed
            else None
        )
        if closed_on is not None and closed_on > self.today:
            closed_on = self.today
        expected = closed_on or self.today + dt.timedelta(days=rng.randint(-10, 150))
        contacts: list[int | None] = list(self.contacts_of.get(account["id"], ())) or [None]
        contact = contacts[0] if rng.random() < 0.6 else rng.choice(contacts)
        owner = account["owner"]
        # quotes from the proposal stage on
        quotes: list[tuple[int, Decimal, dt.date, str]] = []
        quote_rows: list[tuple[str, Row]] = []
        if stage in ("proposal", "negotiation", "won", "lost"):
            for q in range(rng.choices([1, 2, 3], [60, 30, 10])[0]):
                quote_id = self._id("quote")
                quote_day = min(
                    (created + dt.timedelta(days=rng.randint(3, 30) + 15 * q)).date(),
                    closed_on or self.today,
                )
                book_id, factor = self.price_books[account["book"] - 1]
                total = Decimal(0)
                items: list[tuple[str, Row]] = []
                for line in range(rng.randint(1, 5)):
                    product_id = rng.randrange(len(PRODUCTS)) + 1
                    _, pname, _category, _unit, price = PRODUCTS[product_id - 1]
                    quantity = Decimal(
                        rng.randint(1, 4) if price > 20000 else rng.choice([2, 5, 10, 20, 50])
                    )
                    unit_price = _money(Decimal(price) * factor)
                    discount = Decimal(rng.choice([0, 0, 0, 3, 5, 8, 10, 15]))
                    subtotal = _money(quantity * unit_price * (1 - discount / 100))
                    total += subtotal
                    items.append(
                        (
                            "quote_item",
                            {
                                **self._system(self._id("quote_item"), owner, _at(quote_day)),
                                "parent_id": quote_id,
                                "sort_order": line,
                                "product": product_id,
                                "description": pname if rng.random() < 0.3 else None,
                                "quantity": quantity,
                                "unit_price": unit_price,
                                "discount": discount,
                            },
                        )
                    )
                quotes.append((quote_id, total, quote_day, ""))
                quote_rows.append(
                    (
                        "quote",
                        {
                            **self._system(quote_id, owner, _at(quote_day)),
                            "title": f"报价 {q + 1}",
                            "opportunity": opp_id,
                            "account": account["id"],
                            "contact": contact,
                            "price_book": book_id,
                            "status": "draft",
                            "quote_date": quote_day,
                            "valid_until": quote_day + dt.timedelta(days=30),
                            "payment_terms": rng.choice(
                                ["prepaid", "deposit_30", "net30", "net60"]
                            ),
                        },
                    )
                )
                quote_rows += items
            # the last quote is the live one
            last_status = {"won": "accepted", "lost": "rejected"}.get(stage, "sent")
            for i, (kind, row) in enumerate(quote_rows):
                if kind == "quote":
                    last = row["id"] == quotes[-1][0]
                    row["status"] = last_status if last else "expired"
                    if not last or stage in ("won", "lost"):
                        continue
                    if row["valid_until"] < self.today:
                        row["status"] = "expired"
                    quote_rows[i] = (kind, row)
        amount = quotes[-1][1] if quotes else _money(rng.randint(20, 3000) * 1000)
        waiting = self.leads_to_place.get(account["id"])
        lead = waiting.pop(0) if waiting else None  # the opportunity a converted lead became
        if lead is not None:
            self.lead_opps[lead] = opp_id
        if not closed and account["stage"] == "prospect":
            account["stage"] = "opportunity"
        yield (
            "opportunity",
            {
                **self._system(opp_id, owner, created),
                "name": f"{rng.choice(OPPORTUNITY_NAMES)}（{created:%Y%m}）",
                "account": account["id"],
                "contact": contact,
                "lead": lead,
                "stage": stage,
                "amount": amount,
                "expected_close": expected,
                "closed_on": closed_on,
                "opp_type": rng.choices(
                    ["new_business", "upsell", "renewal", "replacement"], [55, 25, 10, 10]
                )[0],
                "source": rng.choice(SOURCES),
                "next_step": None
                if closed
                else rng.choice(["安排技术交流", "提交方案", "商务谈判", "Send revised quote"]),
                "next_step_date": None
                if closed
                else self.today + dt.timedelta(days=rng.randint(1, 20)),
                "competitor": rng.choice(COMPETITORS) if rng.random() < 0.5 else None,
                "lost_reason": rng.choice(LOST_REASONS) if stage == "lost" else None,
                "lost_detail": "客户最终选择了价格更低的方案" if stage == "lost" else None,
            },
        )
        yield from quote_rows
        if stage != "won" or closed_on is None:
            return
        account["stage"] = "repeat" if account["stage"] in ("customer", "repeat") else "customer"
        contract_id = self._id("contract")
        start = closed_on + dt.timedelta(days=rng.randint(0, 10))
        end = start + dt.timedelta(days=365)
        yield (
            "contract",
            {
                **self._system(contract_id, owner, _at(closed_on)),
                "name": f"采购合同 {closed_on:%Y%m%d}-{contract_id}",
                "account": account["id"],
                "opportunity": opp_id,
                "quote": quotes[-1][0] if quotes else None,
                "signatory": contact,
                "status": "active" if end >= self.today else "expired",
                "value": amount,
                "signed_on": closed_on,
                "start_date": start,
                "end_date": end,
                "renewal_date": end - dt.timedelta(days=60),
                "auto_renew": rng.random() < 0.3,
                "payment_terms": rng.choice(["prepaid", "deposit_30", "net30", "net60"]),
            },
        )
        # one order, or the contract split over two deliveries
        parts = [amount] if rng.random() < 0.7 else [_money(amount * Decimal("0.6"))]
        if len(parts) == 1 and amount > 0:
            pass
        else:
            parts.append(amount - parts[0])
        for k, part in enumerate(parts):
            order_day = start + dt.timedelta(days=rng.randint(0, 10) + 45 * k)
            if order_day > self.today:
                break
            order_id = self._id("order")
            age_days = (self.today - order_day).days
            status = (
                "completed"
                if age_days > 60
                else rng.choice(["confirmed", "in_production", "shipped", "delivered"])
            )
            self.orders.append((order_id, account["id"], order_day, part))
            yield (
                "order",
                {
                    **self._system(order_id, owner, _at(order_day)),
                    "account": account["id"],
                    "contract": contract_id,
                    "opportunity": opp_id,
                    "quote": quotes[-1][0] if quotes else None,
                    "order_date": order_day,
                    "status": status,
                    "amount": part,
                    "delivery_date": order_day + dt.timedelta(days=rng.randint(7, 45)),
                    "invoice_status": "invoiced" if status == "completed" else "not_invoiced",
                },
            )
            yield from self._payments(order_id, account["id"], order_day, part, owner, rng)

    def _payments(
        self,
        order_id: int,
        account_id: int,
        day: dt.date,
        amount: Decimal,
        owner: int | None,
        rng: random.Random,
    ) -> Iterator[tuple[str, Row]]:
        """A deposit and the rest, as far as time has passed; never more than the order."""
        plan = [(_money(amount * Decimal("0.3")), 0), (None, rng.randint(20, 90))]
        paid = Decimal(0)
        for share, days in plan:
            pay_day = day + dt.timedelta(days=days)
            if pay_day > self.today or rng.random() < 0.1:
                break
            value = share if share is not None else amount - paid
            if value <= 0:
                break
            paid += value
            payment_id = self._id("payment")
            yield (
                "payment",
                {
                    **self._system(
                        payment_id,
                        self.people.finance[0] if self.people.finance else owner,
                        _at(pay_day),
                    ),
                    "order": order_id,
                    "account": account_id,
                    "amount": value,
                    "paid_on": pay_day,
                    "method": rng.choices(
                        ["bank_transfer", "acceptance_bill", "alipay", "wechat_pay"], [70, 20, 5, 5]
                    )[0],
                    "confirmed": (self.today - pay_day).days > 3,
                    "invoice_number": f"{rng.randint(10**7, 10**8 - 1)}",
                },
            )

    def ticket_rows(self) -> Iterator[Row]:
        rng = self.rng
        customers = [a for a in self.accounts if a["stage"] == "customer"] or self.accounts
        agents = self.people.support or self.people.all_reps
        for _ in range(self.size.tickets):
            account = rng.choice(customers)
            row_id = self._id("ticket")
            created = self._moment(
                max(account["created"], self.now - dt.timedelta(days=180)), self.now
            )
            priority = rng.choices(["low", "normal", "high", "urgent"], [20, 50, 22, 8])[0]
            respond_h, resolve_h = SLA_HOURS[priority]
            age_h = (self.now - created).total_seconds() / 3600
            status = (
                rng.choices(["resolved", "closed", "open"], [35, 60, 5])[0]
                if age_h > resolve_h * 2
                else rng.choice(["new", "open", "pending", "resolved"])
            )
            responded = (
                created + dt.timedelta(hours=respond_h * rng.uniform(0.2, 1.4))
                if status != "new"
                else None
            )
            resolved = (
                created + dt.timedelta(hours=resolve_h * rng.uniform(0.3, 1.5))
                if status in ("resolved", "closed")
                else None
            )
            if resolved is not None and resolved > self.now:
                resolved = self.now
            category, subject = rng.choice(TICKET_SUBJECTS)
            contacts: list[int | None] = list(self.contacts_of.get(account["id"], ())) or [None]
            yield {
                **self._system(row_id, rng.choice(agents), created),
                "subject": subject,
                "account": account["id"],
                "contact": rng.choice(contacts),
                "product": rng.randrange(len(PRODUCTS)) + 1,
                "priority": priority,
                "category": category,
                "channel": rng.choice(["hotline", "phone", "email", "wechat", "web", "on_site"]),
                "status": status,
                "first_response_due": created + dt.timedelta(hours=respond_h),
                "resolution_due": created + dt.timedelta(hours=resolve_h),
                "first_response_at": responded,
                "resolved_at": resolved,
                "satisfaction": rng.choices([5, 4, 3, 2, 1], [45, 30, 15, 6, 4])[0]
                if status == "closed"
                else None,
                "description": f"{subject}。客户反馈问题，需要尽快处理。",
            }

    def activity_rows(self) -> Iterator[Row]:
        """Follow-ups on leads (40 %) and on accounts, their contacts and opportunities."""
        rng = self.rng
        owned_accounts = [a for a in self.accounts if a["owner"] is not None] or self.accounts
        types = ["call", "meeting", "email", "visit", "note"]
        horizon = self.now + dt.timedelta(days=30)
        for _ in range(self.size.activities):
            row_id = self._id("activity")
            kind = rng.choices(types, [40, 12, 25, 15, 8])[0]
            links: Row = {"lead": None, "account": None, "contact": None, "opportunity": None}
            until = horizon
            if rng.random() < 0.4 and self.lead_created:
                lead_id, since, owner, last_contact = rng.choice(self.lead_created)
                links["lead"] = lead_id
                owner = owner or rng.choice(self.people.all_reps)
                # a lead's follow-ups so far end at its last contact; one never contacted
                # has only planned ones
                if last_contact is None:
                    since = self.now + dt.timedelta(hours=1)
                else:
                    until = last_contact
            else:
                account = rng.choice(owned_accounts)
                since, owner = account["created"], account["owner"]
                links["account"] = account["id"]
                contacts = self.contacts_of.get(account["id"])
                if contacts and rng.random() < 0.8:
                    links["contact"] = rng.choice(contacts)
                opps = self.opps_of.get(account["id"])
                if opps and rng.random() < 0.6:
                    links["opportunity"] = opp = rng.choice(opps)
                    since = max(since, self.opp_created[opp])
            start = self._moment(since, until)
            planned = start > self.now
            status = "planned" if planned else rng.choices(["done", "cancelled"], [95, 5])[0]
            account_id = links["account"]
            if status == "done" and account_id is not None:
                self.last_done[account_id] = max(start, self.last_done.get(account_id, start))
            length = {"meeting": 60, "visit": 120}.get(kind)
            yield {
                **self._system(row_id, owner, min(start, self.now)),
                "subject": rng.choice(ACTIVITY_SUBJECTS[kind]),
                "type": kind,
                "status": status,
                "start_at": start,
                "end_at": start + dt.timedelta(minutes=length) if length else None,
                **links,
                "outcome": None
                if planned
                else rng.choice(["positive", "neutral", "negative", "no_answer"]),
                "location": rng.choice(["客户现场", "公司会议室", "线上会议"]) if length else None,
                "notes": None
                if rng.random() < 0.5
                else "沟通了需求与交期，客户关注价格和售后响应。",
            }

    def task_rows(self) -> Iterator[Row]:
        rng = self.rng
        owned_accounts = [a for a in self.accounts if a["owner"] is not None] or self.accounts
        for _ in range(self.size.tasks):
            account = rng.choice(owned_accounts)
            row_id = self._id("task")
            created = self._moment(
                max(account["created"], self.now - dt.timedelta(days=90)), self.now
            )
            due = created.date() + dt.timedelta(days=rng.randint(1, 30))
            status = (
                rng.choices(["done", "cancelled", "in_progress"], [80, 10, 10])[0]
                if due < self.today
                else rng.choice(["not_started", "in_progress"])
            )
            opps = self.opps_of.get(account["id"])
            yield {
                **self._system(row_id, account["owner"], created),
                "subject": rng.choice(
                    [
                        "准备技术方案",
                        "跟进报价反馈",
                        "安排样机测试",
                        "Update the forecast",
                        "催收尾款",
                        "整理客户需求清单",
                    ]
                ),
                "status": status,
                "priority": rng.choices(["low", "normal", "high", "urgent"], [20, 55, 20, 5])[0],
                "due_date": due,
                "done_at": _at(due) if status == "done" else None,
                "account": account["id"],
                "opportunity": rng.choice(opps) if opps and rng.random() < 0.5 else None,
            }

    def account_stages(self) -> list[Row]:
        """Lifecycle stages known only after the sales were generated."""
        return [
            {"_id": a["id"], "_stage": a["stage"]}
            for a in self.accounts
            if a["stage"] != "prospect"
        ]


def _at(day: dt.date) -> dt.datetime:
    """10:00 China time on ``day``, as UTC."""
    return dt.datetime.combine(day, dt.time(2, 0), tzinfo=dt.UTC)


# -- the whole thing ------------------------------------------------------------------------


@dataclass
class Report:
    """Rows per entity (``"<entity> (changes)"``: records changed afterwards) and seconds."""

    counts: dict[str, int]
    seconds: dict[str, float]
    total_seconds: float

    @property
    def records(self) -> int:
        """Records created, child rows included (changes to them are not new records)."""
        return sum(n for name, n in self.counts.items() if not name.endswith("(changes)"))


def crm_is_empty(conn: sa.Connection) -> bool:
    live = apps.published(conn, APP)
    return all(
        conn.scalar(sa.select(sa.func.count()).select_from(live.table(e))) == 0
        for e in ("account", "lead")
    )


def load(
    engine: sa.Engine,
    *,
    size: str = "small",
    seed: int = 2024,
    today: dt.date | None = None,
    people: People | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> Report:
    """Generate the demo set into the (installed, empty) CRM through the records service.

    One transaction per batch of :data:`~.demo_loader.BATCH` records (see
    :mod:`tessera.platform.demo_loader`): a run that fails half-way leaves the batches before
    it, and :func:`crm_is_empty` then keeps ``tessera demo`` from loading a second set on top.
    """
    started = time.perf_counter()
    people = people or ensure_people(engine, size)
    generator = Generator(SIZES[size], people, seed=seed, today=today or dt.date.today())
    loader = ServiceLoader(engine, APP, now=generator.now)
    for chunk in generator.chunks():
        loader.write(chunk)
        if progress is not None:
            progress(chunk.entity, loader.counts.get(chunk.entity, 0))
    loader.finish()
    return Report(loader.counts, loader.seconds, time.perf_counter() - started)


def install_crm(engine: sa.Engine, actor_id: int | None = None) -> bool:
    """Install the CRM template unless it is installed; True when it was installed now."""
    with engine.connect() as conn:
        installed = {a["key"] for a in apps.list_apps(conn)}
    if APP in installed:
        return False
    doc, template = apps.read_definition(APP)
    apps.install(engine, doc, template=template, actor_id=actor_id)
    return True
