"""The errors in the text of the source deck, and what each slide means instead.

The course's only source is the 21-slide deck 企业关键客户管理理论与技巧（营销部系列培训）. Its
text reached us scraped from a document-sharing site, with the errors below. kamlib quotes
the corrected wording (its comments cite this table), and the tests check that no error
survives anywhere in the kit and that the corrected deck still holds every quoted text.
"""

CORRECTIONS: dict[str, str] = {
    "juemi": "绝密",  # pinyin left by the scraper: 专门或绝密的信息 (slides 14–15)
    "遍好": "偏好",  # 偏好的供应商 (slide 15)
    "技持": "支持",  # 支持你为争取这一客户而作出的努力 (slide 21)
    "掌据": "掌握",  # 掌握开展工作的技能 (slide 12)
    "战略联盟产关系": "战略联盟关系",  # slide 17's title
    "16伙Leabharlann 关系": "16\n合作伙伴关系\n",  # slide 16's number and its garbled title
    "确定优势程序": "确定优先顺序",  # slide 20: resources by size, potential and importance
    "产品和服务项—": "产品和服务项目—",  # slide 21: 哪些产品和服务项目, its last character lost before the dash
    "作 用": "作用",  # 作用与职责, split across two lines
}
"""Scrape error -> corrected text."""

SCRAPE_ERRORS: list[str] = ["juemi", "遍好", "技持", "掌据", "战略联盟产", "Leabharlann", "确定优势程序", "服务项—"]
"""Fragments of :data:`CORRECTIONS`' errors that must not appear anywhere in the kit (“作 用”,
a line break in the deck, is searched for separately, as a spaced 作用)."""
