"""Seeded generator of the case-study data of 华东精工 (every figure is invented).

``python -m tools.generate_data`` (from the repository root) rewrites kamlib/data/'s CSV files from
:data:`SEED`; ``build_tables(seed)`` returns the tables without writing. The design
targets (tier mix, revenue concentration, consistency between the tables) are met by
construction for every seed; the data cards describe them.

Two rules keep the data faithful to the indicator texts of kamlib.tiers:

* Level 4 of competition, information_access, pricing, contact_level and contract quotes
  the deck's strategic alliance (a joint venture co-led by both general managers), so only
  alliance accounts have it; elsewhere only visibility (known inside and outside the
  customer) may reach level 4.
* Government buyers fall under 政府采购法 / 招标投标法: no government account is an alliance
  or orders outside a formal procurement procedure (contract <= 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kamlib.data import INDICATOR_COLUMNS, PRODUCT_LINES, SCHEMAS

SEED = 20250601
N_ACCOUNTS = 48
TIER_COUNTS = {1: 18, 2: 15, 3: 10, 4: 5}  # vendor, preferred, partnership, alliance
MIXED_COUNTS = {1: 2, 2: 2, 3: 1, 4: 1}  # accounts whose indicators span >= 2 levels
TOP_SHARE = 0.72  # revenue share of the top 20 % of accounts
TOTAL_REVENUE = 12_800.0  # 万元, all accounts, 2025
TREND_COUNTS = {"shrinking": 12, "growing": 26, "volatile": 10}
YEARS = (2023, 2024, 2025)
FLOAT_DECIMALS = {"annual_revenue": 1, "share_of_wallet": 2, "amount": 1}

REGION_SLOTS = {"华东": 16, "华南": 9, "华北": 9, "华中": 7, "西南": 7}
# account manager -> (region, sales manager); 华东 has two account managers
TEAM = {
    "陈思远": ("华东", "马俊峰"),
    "王雅琴": ("华东", "马俊峰"),
    "孙浩然": ("华中", "马俊峰"),
    "刘志强": ("华南", "何晓东"),
    "赵敏": ("华北", "何晓东"),
    "李婷": ("西南", "何晓东"),
}
EXECUTIVE_SPONSORS = ("周建华", "吴国栋", "郑丽萍", "黄立新")  # 副总经理 ×2, 销售总监, 技术总监
STAFFING_GAPS = {3: 1, 2: 1, 1: 2}  # accounts per tier without an executive sponsor
ALLIANCE_ONLY = ("competition", "information_access", "pricing", "contact_level", "contract")
GOVERNMENT_MAX_CONTRACT = 2  # each order goes through a formal procurement procedure

# (industry, government?) -> number of accounts
INDUSTRY_SLOTS = {
    ("汽车制造", False): 8,
    ("工程机械", False): 6,
    ("轨道交通", False): 3,
    ("轨道交通", True): 2,
    ("电力", False): 4,
    ("电力", True): 1,
    ("水务", False): 1,
    ("水务", True): 5,
    ("市政", True): 2,
    ("食品饮料", False): 6,
    ("化工", False): 6,
    ("医疗设备", False): 4,
}
CITIES = ("云川市", "星澜市", "青屿市", "鹭汀市", "枫岚市", "霁川市", "溪岚市", "岚湾市", "澄屿市", "栖鹭市")
BRANDS = (
    "澄岳",
    "朗峰",
    "曜川",
    "沐霖",
    "宸翼",
    "峤北",
    "瑞澜",
    "嘉屿",
    "霁禾",
    "铭岫",
    "昱衡",
    "舜澄",
    "栎川",
    "棠溪",
    "琨岳",
    "玥川",
    "砺锋",
    "澈源",
    "翊航",
    "骁驰",
    "璟泰",
    "堇源",
    "岑木",
    "泓岱",
    "珩宇",
    "沄江",
    "钧岚",
    "翎川",
    "砚澄",
    "晗曦",
    "朔禾",
    "渟渊",
    "岫峰",
    "璞川",
    "熠辰",
    "黛岭",
    "筠溪",
    "槿川",
)
NAME_PATTERNS = {
    "汽车制造": ("{}汽车零部件有限公司", "{}汽车制造有限公司", "{}新能源汽车有限公司"),
    "工程机械": ("{}重工机械有限公司", "{}工程机械股份有限公司"),
    "轨道交通": ("{}轨道车辆有限公司", "{}轨道装备有限公司"),
    "电力": ("{}电力设备有限公司", "{}风电科技有限公司", "{}热电有限公司"),
    "水务": ("{}水务集团有限公司",),
    "食品饮料": ("{}食品有限公司", "{}饮品有限公司", "{}乳业有限公司"),
    "化工": ("{}化工有限公司", "{}新材料科技有限公司"),
    "医疗设备": ("{}医疗器械有限公司", "{}医疗科技有限公司"),
}
GOV_PATTERNS = {
    "水务": ("{}水务局", "{}供排水管理中心", "{}污水处理管理处"),
    "轨道交通": ("{}轨道交通建设管理中心",),
    "市政": ("{}市政设施管理处", "{}城市泵站管理中心"),
    "电力": ("{}水电站管理处",),
}
# share of each product line (PRODUCT_LINES order) in an industry's orders
PRODUCT_MIX = {
    "汽车制造": (0.25, 0.35, 0.10, 0.20, 0.10),
    "工程机械": (0.45, 0.15, 0.15, 0.10, 0.15),
    "轨道交通": (0.30, 0.20, 0.20, 0.15, 0.15),
    "电力": (0.20, 0.05, 0.40, 0.15, 0.20),
    "水务": (0.15, 0.00, 0.50, 0.10, 0.25),
    "市政": (0.10, 0.00, 0.45, 0.15, 0.30),
    "食品饮料": (0.20, 0.30, 0.20, 0.20, 0.10),
    "化工": (0.25, 0.05, 0.35, 0.20, 0.15),
    "医疗设备": (0.10, 0.50, 0.05, 0.30, 0.05),
}
COMPETITOR_COLUMNS = [f.name for f in SCHEMAS["competitors.csv"]]
COMPETITORS = (
    (
        "C1",
        "瀚翎传动科技有限公司",
        "减速机、伺服电机",
        "以标准品低价走量，主打“够用就好”",
        "价格比我们低 10%–15%；现货多、交期短",
    ),
    (
        "C2",
        "欧森德传动（中国）有限公司",
        "伺服电机、变频器、工业传感器",
        "外资品牌，强调高端精度与全球统一标准",
        "品牌知名度高；高端伺服与变频技术领先；在外资客户中有总部采购协议",
    ),
    (
        "C3",
        "蓝岙智能装备有限公司",
        "变频器、工业传感器、系统集成",
        "卖整套自动化方案而不是单个部件",
        "方案设计能力强；能承接交钥匙项目；与设计院关系好",
    ),
    (
        "C4",
        "沐川机电服务有限公司",
        "维保服务、备品备件",
        "专做多品牌设备的维修保养",
        "本地服务网点多，4 小时到场；维保合同价格灵活",
    ),
)
# contact titles: (enterprise titles, government titles) per level
TITLES = {
    "高层": (
        ("总经理", "副总经理", "董事长", "总工程师", "生产副总"),
        ("局长", "副局长", "主任", "副主任", "总工程师"),
    ),
    "中层": (
        ("设备部经理", "采购部经理", "生产部经理", "技术部经理", "项目经理", "质量部经理"),
        ("设备科科长", "工程管理科科长", "运行管理科科长", "招标采购办主任", "项目负责人"),
    ),
    "操作层": (
        ("设备工程师", "电气工程师", "采购专员", "维修班长", "工艺工程师"),
        ("设备管理员", "运行班长", "采购专员", "技术员"),
    ),
}
PURCHASING_TITLES = {"采购部经理", "招标采购办主任", "采购专员"}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞辉宇晨欣怡博文浩然子轩梓涵一诺雨彤佳琪俊凯嘉乐思源志远建国海峰晓东春燕秋实立新国庆卫东振华"


def _tier(levels: Sequence[int]) -> int:
    """Highest level k such that more than half of the levels are >= k."""
    return max(k for k in range(1, 5) if 2 * sum(v >= k for v in levels) > len(levels))


def _revenues(rng: np.random.Generator) -> np.ndarray:
    """Revenue per account in tenths of 万元, descending, Pareto-like with TOP_SHARE."""
    noise = np.sort(np.exp(rng.normal(0.0, 0.12, N_ACCOUNTS)))[::-1]
    ranks = np.arange(1, N_ACCOUNTS + 1)
    top = int(np.ceil(0.2 * N_ACCOUNTS))
    low, high = 0.1, 4.0
    for _ in range(60):  # bisection on the Pareto exponent
        alpha = (low + high) / 2
        weights = ranks**-alpha * noise
        if weights[:top].sum() / weights.sum() < TOP_SHARE:
            low = alpha
        else:
            high = alpha
    return np.round(weights / weights.sum() * TOTAL_REVENUE * 10).astype(np.int64)


def _profile(tier: int, mixed: bool, rng: np.random.Generator) -> list[int]:
    """Six indicator levels whose majority tier is *tier*; spread >= 2 iff *mixed*."""
    while True:
        levels = np.full(6, tier)
        if mixed:
            levels[rng.integers(6)] = tier + 2 if tier <= 2 else tier - 2
            other = rng.integers(6)
            if levels[other] == tier and rng.random() < 0.5:
                levels[other] = tier + rng.choice([-1, 1])
        else:
            step = 1 if tier == 1 else -1 if tier == 4 else rng.choice([-1, 1])
            levels[rng.choice(6, size=rng.integers(0, 3), replace=False)] = tier + step
        levels = np.clip(levels, 1, 4)
        if _tier(levels) == tier and (levels.max() - levels.min() >= 2) == mixed:
            return [int(v) for v in levels]


def _keep_level_four_for_alliances(levels: np.ndarray, tier: int) -> None:
    """Below tier 4, move an alliance-only level 4 to visibility (or lower it to 3), in place.

    Swapping with visibility keeps the multiset of levels, lowering a 4 to 3 below tier 4
    keeps the majority tier; either way the tier and the mixed flag stay as drawn.
    """
    if tier == 4:
        return
    vis = INDICATOR_COLUMNS.index("visibility")
    for name in ALLIANCE_ONLY:
        j = INDICATOR_COLUMNS.index(name)
        if levels[j] == 4:
            if levels[vis] < 4:
                levels[j], levels[vis] = levels[vis], 4
            else:
                levels[j] = 3


def _move_government_to_tendered_accounts(
    industries: list[tuple[str, bool]], names: list[str], tier: np.ndarray, levels: np.ndarray
) -> None:
    """Swap identities so that every government buyer buys through formal procurement.

    A government account that came out as an alliance or with contract > 2 trades its name,
    industry and type with the smallest enterprise account (of the same industry if there
    is one) that is below tier 4 with contract <= 2; rows are in revenue order. Revenue,
    levels and team stay with the row.
    """
    contract = levels[:, INDICATOR_COLUMNS.index("contract")]

    def tendered(i: int) -> bool:
        return tier[i] < 4 and contract[i] <= GOVERNMENT_MAX_CONTRACT

    for i, (industry, gov) in enumerate(industries):
        if not gov or tendered(i):
            continue
        free = [j for j, (_, g) in enumerate(industries) if not g and tendered(j)]
        j = next((j for j in reversed(free) if industries[j][0] == industry), free[-1])
        industries[i], industries[j] = industries[j], industries[i]
        names[i], names[j] = names[j], names[i]


def _pick(
    rng: np.random.Generator, candidates: Sequence[int], n: int, weights: Sequence[float] | None = None
) -> list[int]:
    """n distinct items of *candidates*, optionally weighted."""
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return [candidates[i] for i in rng.choice(len(candidates), size=n, replace=False, p=p)]


def _accounts(rng: np.random.Generator) -> pd.DataFrame:
    revenue = _revenues(rng)  # index i = revenue rank
    n = N_ACCOUNTS
    by_score = np.argsort(-(np.log(revenue) + rng.normal(0.0, 0.8, n)), kind="stable")
    tier = np.empty(n, dtype=int)
    start = 0
    for t in (4, 3, 2, 1):
        tier[by_score[start : start + TIER_COUNTS[t]]] = t
        start += TIER_COUNTS[t]
    mixed = np.zeros(n, dtype=bool)
    for t, count in MIXED_COUNTS.items():
        mixed[_pick(rng, np.flatnonzero(tier == t).tolist(), count)] = True
    levels = np.array([_profile(t, m, rng) for t, m in zip(tier, mixed)])

    industries = [key for key, count in INDUSTRY_SLOTS.items() for _ in range(count)]
    industries = [industries[i] for i in rng.permutation(n)]
    regions = [r for r, count in REGION_SLOTS.items() for _ in range(count)]
    regions = [regions[i] for i in rng.permutation(n)]
    cities, brands = list(rng.permutation(CITIES)), list(rng.permutation(BRANDS))
    names = []
    for industry, gov in industries:
        patterns = (GOV_PATTERNS if gov else NAME_PATTERNS)[industry]
        owner = cities.pop() if gov else brands.pop()
        names.append(str(patterns[rng.integers(len(patterns))]).format(owner))

    managers = []
    for region in regions:
        local = [am for am, (r, _) in TEAM.items() if r == region]
        managers.append(local[rng.integers(len(local))])
    sponsors = [EXECUTIVE_SPONSORS[i] for i in rng.integers(0, len(EXECUTIVE_SPONSORS), n)]
    contact_col = INDICATOR_COLUMNS.index("contact_level")
    for t, count in STAFFING_GAPS.items():
        candidates = np.flatnonzero((tier == t) & (levels[:, contact_col] <= 3)).tolist()
        for i in _pick(rng, candidates, count, weights=revenue[candidates]):
            sponsors[i] = None
    for row, t in zip(levels, tier):
        _keep_level_four_for_alliances(row, int(t))
    _move_government_to_tendered_accounts(industries, names, tier, levels)

    wallet_ranges = {1: (0.05, 0.25), 2: (0.20, 0.45), 3: (0.40, 0.65), 4: (0.60, 0.85)}
    frame = pd.DataFrame(
        {
            "name": names,
            "customer_type": ["政府" if gov else "企业" for _, gov in industries],
            "industry": [industry for industry, _ in industries],
            "region": regions,
            "annual_revenue": revenue / 10,
            "growth_potential": rng.choice(np.arange(1, 6), size=n, p=[0.1, 0.2, 0.3, 0.25, 0.15]),
            "strategic_importance": np.clip(tier + 1 + rng.integers(-1, 2, n), 1, 5),
            "share_of_wallet": np.round([rng.uniform(*wallet_ranges[t]) for t in tier], 2),
            **{name: levels[:, j] for j, name in enumerate(INDICATOR_COLUMNS)},
            "account_manager": managers,
            "executive_sponsor": sponsors,
            "sales_manager": [TEAM[am][1] for am in managers],
        }
    )
    frame = frame.iloc[rng.permutation(n)].reset_index(drop=True)
    frame.insert(0, "account_id", [f"A{i:02d}" for i in range(1, n + 1)])
    return _typed(frame, "accounts.csv")


def _split(total: int, parts: int, rng: np.random.Generator) -> np.ndarray:
    """*total* (> = parts) split into *parts* positive integers that sum exactly to it."""
    raw = rng.dirichlet(np.full(parts, 2.0)) * (total - parts)
    whole = np.floor(raw).astype(np.int64)
    extra = total - parts - whole.sum()
    whole[np.argsort(-(raw - whole), kind="stable")[:extra]] += 1
    return whole + 1


def _orders(accounts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    tier = accounts[list(INDICATOR_COLUMNS)].apply(_tier, axis=1).to_numpy()
    ids = accounts["account_id"].tolist()
    shrink_weight = {1: 4.0, 2: 2.5, 3: 1.0, 4: 0.3}  # vendors lose business most often
    shrink = _pick(rng, ids, TREND_COUNTS["shrinking"], weights=[shrink_weight[t] for t in tier])
    rest = [a for a in ids if a not in shrink]
    potential = accounts.set_index("account_id")["growth_potential"].astype(float)
    grow = _pick(rng, rest, TREND_COUNTS["growing"], weights=potential[rest].to_numpy())
    rows = []
    for account in accounts.itertuples(index=False):
        if account.account_id in shrink:
            rates = -rng.uniform(0.05, 0.30, 2)
        elif account.account_id in grow:
            rates = rng.uniform(0.05, 0.35, 2)
        else:
            rates = rng.uniform(0.05, 0.25, 2) * rng.permutation([-1, 1])
        tenths = round(account.annual_revenue * 10)
        totals = {2025: tenths, 2024: round(tenths / (1 + rates[1]))}
        totals[2023] = round(totals[2024] / (1 + rates[0]))
        mix = np.asarray(PRODUCT_MIX[account.industry])
        for year in YEARS:
            count = int(np.clip(2 + round(np.sqrt(totals[year] / 10) / 6) + rng.integers(0, 2), 2, 10))
            days = np.sort(rng.choice(360, size=count, replace=False)) + 3  # Jan 4 .. Dec 28
            for day, amount in zip(days, _split(totals[year], count, rng)):
                rows.append(
                    (
                        account.account_id,
                        np.datetime64(f"{year}-01-01") + day,
                        year,
                        PRODUCT_LINES[rng.choice(len(PRODUCT_LINES), p=mix)],
                        amount / 10,
                    )
                )
    frame = pd.DataFrame(rows, columns=["account_id", "order_date", "year", "product_line", "amount"])
    frame = frame.sort_values(["order_date", "account_id"], kind="stable").reset_index(drop=True)
    frame["order_date"] = frame["order_date"].dt.strftime("%Y-%m-%d")
    seq = frame.groupby("year").cumcount() + 1
    frame.insert(0, "order_id", [f"O{y}-{s:04d}" for y, s in zip(frame["year"], seq)])
    return _typed(frame, "orders.csv")


def _contact_plan(level: int, has_sponsor: bool, rng: np.random.Generator) -> list[tuple[str, int, str, str | None]]:
    """(level, strength, owner_role, title or None to draw) of each contact of an account.

    *level* is the account's contact_level. Level 4 (alliance accounts only) includes the
    customer's 总经理, who leads the alliance together with ours.
    """
    am, es, sm = "account_manager", "executive_sponsor", "sales_manager"
    if level == 1:
        plan = [("中层", int(rng.integers(1, 3)), am)]
        plan += [
            (str(rng.choice(["中层", "操作层"])), int(rng.integers(1, 3)), str(rng.choice([am, sm])))
            for _ in range(rng.integers(1, 3))
        ]
    elif level == 2:
        plan = [("中层", int(rng.integers(3, 5)), am) for _ in range(rng.integers(2, 4))]
        if rng.random() < 0.5:
            plan.append(("高层", int(rng.integers(2, 4)), am))
        plan += [("操作层", int(rng.integers(2, 5)), str(rng.choice([am, sm]))) for _ in range(rng.integers(0, 2))]
    elif level == 3:
        plan = [("高层", 4, es if has_sponsor and rng.random() < 0.6 else am)]
        if rng.random() < 0.5:
            plan.append(("高层", int(rng.integers(3, 5)), es if has_sponsor else am))
        plan += [("中层", int(rng.integers(3, 6)), am) for _ in range(2)]
        plan += [("操作层", int(rng.integers(3, 5)), str(rng.choice([am, sm]))) for _ in range(rng.integers(0, 2))]
    else:
        plan = [("高层", 5, es)]
        plan += [("中层", int(rng.integers(4, 6)), am) for _ in range(2)]
        plan += [("操作层", int(rng.integers(3, 6)), am) for _ in range(rng.integers(0, 3))]
        return [("高层", 5, es, "总经理"), *((*c, None) for c in plan)]
    return [(*c, None) for c in plan]


def _contacts(accounts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    used: set[str] = set()
    rows = []
    for account in accounts.itertuples(index=False):
        gov = account.customer_type == "政府"
        has_sponsor = isinstance(account.executive_sponsor, str)
        plan = _contact_plan(int(account.contact_level), has_sponsor, rng)
        for level, strength, owner, fixed_title in plan:
            name = ""
            while not name or name in used:
                given = "".join(rng.choice(list(GIVEN), size=rng.integers(1, 3), replace=False))
                name = str(rng.choice(list(SURNAMES))) + given
            used.add(name)
            titles = TITLES[level][gov]
            title = fixed_title or str(titles[rng.integers(len(titles))])
            role = (
                "决策者"
                if level == "高层"
                else "采购把关者"
                if title in PURCHASING_TITLES
                else "影响者"
                if level == "中层"
                else "使用者"
            )
            rows.append((account.account_id, name, title, level, role, strength, owner))
    frame = pd.DataFrame(
        rows, columns=["account_id", "name", "title", "level", "buying_role", "relationship_strength", "owner_role"]
    )
    frame.insert(0, "contact_id", [f"P{i:03d}" for i in range(1, len(frame) + 1)])
    return _typed(frame, "contacts.csv")


def _presence(accounts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    counts = {1: (3, 4), 2: (2, 3), 3: (0, 1), 4: (0, 0)}
    rows = []
    for account_id, level in zip(accounts["account_id"], accounts["competition"]):
        low, high = counts[int(level)]
        chosen = rng.choice(len(COMPETITORS), size=rng.integers(low, high + 1), replace=False)
        rows += [(account_id, COMPETITORS[i][0]) for i in sorted(chosen)]
    return _typed(pd.DataFrame(rows, columns=["account_id", "competitor_id"]), "competitor_presence.csv")


def _typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """*frame* with the schema's columns in order and explicit dtypes (dates stay text)."""
    dtypes = {"text": "str", "date": "str", "int": "Int64", "float": "float64"}
    return pd.DataFrame({f.name: frame[f.name].astype(dtypes[f.kind]) for f in SCHEMAS[name]})


def build_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """All case-study tables, keyed by CSV file name, generated from *seed*."""
    rng = np.random.default_rng(seed)
    accounts = _accounts(rng)
    return {
        "accounts.csv": accounts,
        "orders.csv": _orders(accounts, rng),
        "contacts.csv": _contacts(accounts, rng),
        "competitors.csv": _typed(pd.DataFrame(COMPETITORS, columns=COMPETITOR_COLUMNS), "competitors.csv"),
        "competitor_presence.csv": _presence(accounts, rng),
    }


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """*frame* as CSV: UTF-8, LF line ends, fixed decimals per money/share column."""
    out = frame.copy()
    for column, decimals in FLOAT_DECIMALS.items():
        if column in out:
            out[column] = [f"{value:.{decimals}f}" for value in out[column]]
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    """Write every table to the package data folder (or --out)."""
    parser = argparse.ArgumentParser(description="重新生成华东精工案例数据（数字均为虚构）")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "kamlib" / "data")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in build_tables(args.seed).items():
        (args.out / name).write_bytes(csv_bytes(frame))
        print(f"已写入 {name}（{len(frame)} 行）")


if __name__ == "__main__":
    main()
