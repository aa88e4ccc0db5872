#!/usr/bin/env python3
# ruff: noqa  -- copied unchanged from the shared benchmark harness (../shared/bench), kept as is
"""Generate a synthetic, deterministic government-policy knowledge graph in Turtle.

Shapes (ontology prefix pol: <http://example.org/policy/ontology#>):

  pol:Region   (pol:Province / pol:City)  rdfs:label @zh @en, pol:regionCode "330100",
               pol:parentRegion (city -> province), pol:population
  pol:Agency   rdfs:label @zh @en, pol:level, pol:locatedIn region, pol:parentAgency
  pol:Topic    rdfs:label @zh @en, skos:notation
  pol:Plan     rdfs:label @zh @en, pol:documentNumber, pol:issuedBy agency,
               pol:appliesTo region, pol:issuedDate, pol:topic, pol:status
  pol:Goal     rdfs:label @zh @en, pol:goalOf plan, pol:indicator, pol:targetValue,
               pol:unit, pol:targetYear
  pol:Task     rdfs:label @zh @en, pol:identifier, pol:partOfPlan plan, pol:leadAgency,
               pol:coAgency*, pol:region, pol:topic, pol:contributesTo goal?,
               pol:deadline, pol:priority, pol:budget?, pol:status

Fixed anchors that the benchmark queries rely on exist at every size >= 1e4:
  region "浙江省"@zh (code 330000) with city code 330100, task T000042, plan P000007,
  topic <.../topic/ecology>, and tasks whose labels contain "污水" / "sewage".

Usage:  python gen_data.py --triples 100000 --out data/kg-1e5.ttl [--seed 1]
Prints the exact number of triples written.  Output is byte-identical for the same args.
"""
import argparse
import os
import random
import sys

ONT = "http://example.org/policy/ontology#"
ID = "http://example.org/policy/id/"

PROVINCES = [  # (code, zh, en)
    ("110000", "北京市", "Beijing"), ("120000", "天津市", "Tianjin"), ("130000", "河北省", "Hebei"),
    ("140000", "山西省", "Shanxi"), ("150000", "内蒙古自治区", "Inner Mongolia"),
    ("210000", "辽宁省", "Liaoning"), ("220000", "吉林省", "Jilin"), ("230000", "黑龙江省", "Heilongjiang"),
    ("310000", "上海市", "Shanghai"), ("320000", "江苏省", "Jiangsu"), ("330000", "浙江省", "Zhejiang"),
    ("340000", "安徽省", "Anhui"), ("350000", "福建省", "Fujian"), ("360000", "江西省", "Jiangxi"),
    ("370000", "山东省", "Shandong"), ("410000", "河南省", "Henan"), ("420000", "湖北省", "Hubei"),
    ("430000", "湖南省", "Hunan"), ("440000", "广东省", "Guangdong"),
    ("450000", "广西壮族自治区", "Guangxi"), ("460000", "海南省", "Hainan"), ("500000", "重庆市", "Chongqing"),
    ("510000", "四川省", "Sichuan"), ("520000", "贵州省", "Guizhou"), ("530000", "云南省", "Yunnan"),
    ("540000", "西藏自治区", "Tibet"), ("610000", "陕西省", "Shaanxi"), ("620000", "甘肃省", "Gansu"),
    ("630000", "青海省", "Qinghai"), ("640000", "宁夏回族自治区", "Ningxia"),
    ("650000", "新疆维吾尔自治区", "Xinjiang"), ("710000", "台湾省", "Taiwan"),
    ("810000", "香港特别行政区", "Hong Kong"), ("820000", "澳门特别行政区", "Macao"),
]

SYLLABLES = [("安", "An"), ("宁", "Ning"), ("平", "Ping"), ("和", "He"), ("兴", "Xing"), ("昌", "Chang"),
             ("泰", "Tai"), ("华", "Hua"), ("阳", "Yang"), ("江", "Jiang"), ("山", "Shan"), ("海", "Hai"),
             ("南", "Nan"), ("北", "Bei"), ("东", "Dong"), ("西", "Xi"), ("清", "Qing"), ("新", "Xin"),
             ("丰", "Feng"), ("德", "De"), ("临", "Lin"), ("青", "Qing"), ("嘉", "Jia"), ("永", "Yong"),
             ("武", "Wu"), ("长", "Chang"), ("云", "Yun"), ("金", "Jin"), ("河", "He"), ("台", "Tai")]

TOPICS = [  # (slug, zh, en)
    ("ecology", "生态环境", "Ecology and Environment"), ("rural", "乡村振兴", "Rural Revitalization"),
    ("digital", "数字经济", "Digital Economy"), ("education", "教育", "Education"),
    ("health", "医疗卫生", "Health Care"), ("transport", "交通运输", "Transport"),
    ("energy", "能源", "Energy"), ("housing", "住房保障", "Housing"),
    ("employment", "就业", "Employment"), ("innovation", "科技创新", "Science and Innovation"),
    ("industry", "先进制造业", "Advanced Manufacturing"), ("water", "水利", "Water Resources"),
    ("culture", "文化旅游", "Culture and Tourism"), ("elderly", "养老服务", "Elderly Care"),
    ("safety", "安全生产", "Work Safety"), ("finance", "金融服务", "Financial Services"),
]

DEPARTMENTS = [  # (zh suffix, en prefix, topic slugs handled)
    ("发展和改革委员会", "Development and Reform Commission", ("energy", "industry", "finance")),
    ("生态环境厅", "Department of Ecology and Environment", ("ecology", "water")),
    ("农业农村厅", "Department of Agriculture and Rural Affairs", ("rural", "water")),
    ("工业和信息化厅", "Department of Industry and Information Technology", ("digital", "industry")),
    ("教育厅", "Department of Education", ("education",)),
    ("卫生健康委员会", "Health Commission", ("health", "elderly")),
    ("交通运输厅", "Department of Transport", ("transport",)),
    ("住房和城乡建设厅", "Department of Housing and Urban-Rural Development", ("housing", "ecology")),
    ("人力资源和社会保障厅", "Department of Human Resources and Social Security", ("employment", "elderly")),
    ("科学技术厅", "Department of Science and Technology", ("innovation", "digital")),
    ("文化和旅游厅", "Department of Culture and Tourism", ("culture",)),
    ("应急管理厅", "Department of Emergency Management", ("safety",)),
    ("财政厅", "Department of Finance", ("finance",)),
]

NATIONAL = [  # (zh, en, topics)
    ("国家发展和改革委员会", "National Development and Reform Commission", ("energy", "industry", "finance")),
    ("生态环境部", "Ministry of Ecology and Environment", ("ecology", "water")),
    ("农业农村部", "Ministry of Agriculture and Rural Affairs", ("rural",)),
    ("工业和信息化部", "Ministry of Industry and Information Technology", ("digital", "industry")),
    ("教育部", "Ministry of Education", ("education",)),
    ("国家卫生健康委员会", "National Health Commission", ("health", "elderly")),
    ("交通运输部", "Ministry of Transport", ("transport",)),
    ("住房和城乡建设部", "Ministry of Housing and Urban-Rural Development", ("housing",)),
    ("人力资源和社会保障部", "Ministry of Human Resources and Social Security", ("employment",)),
    ("科学技术部", "Ministry of Science and Technology", ("innovation",)),
    ("文化和旅游部", "Ministry of Culture and Tourism", ("culture",)),
    ("应急管理部", "Ministry of Emergency Management", ("safety",)),
    ("水利部", "Ministry of Water Resources", ("water",)),
    ("财政部", "Ministry of Finance", ("finance",)),
]

# Task phrases per topic: (zh object, en object).  Verbs are combined with them.
TASK_OBJECTS = {
    "ecology": [("农村生活污水治理", "rural domestic sewage treatment"), ("城市黑臭水体整治", "remediation of black and odorous urban water"),
                ("大气污染联防联控", "joint prevention of air pollution"), ("固体废物资源化利用", "recycling of solid waste")],
    "rural": [("高标准农田建设", "high-standard farmland construction"), ("农村人居环境整治", "rural living environment improvement"),
              ("乡村特色产业发展", "rural specialty industries")],
    "digital": [("5G基站建设", "5G base station deployment"), ("政务数据共享平台", "government data sharing platform"),
                ("工业互联网标识解析", "industrial internet identifier resolution")],
    "education": [("义务教育优质均衡", "balanced compulsory education"), ("职业教育产教融合", "industry-education integration in vocational schools")],
    "health": [("县域医共体建设", "county medical communities"), ("基层医疗卫生服务能力", "primary health care capacity")],
    "transport": [("城际铁路网络", "intercity railway network"), ("农村公路提档升级", "rural road upgrading")],
    "energy": [("分布式光伏发电", "distributed photovoltaic generation"), ("煤电机组节能改造", "energy-saving retrofit of coal power units")],
    "housing": [("保障性租赁住房", "affordable rental housing"), ("老旧小区改造", "renovation of old residential compounds"),
                ("城镇污水管网改造", "urban sewage pipe network renovation")],
    "employment": [("高校毕业生就业服务", "employment services for graduates"), ("农民工技能培训", "skills training for migrant workers")],
    "innovation": [("重点实验室体系", "key laboratory system"), ("科技成果转化", "transfer of scientific achievements")],
    "industry": [("先进制造业集群", "advanced manufacturing clusters"), ("智能制造示范工厂", "smart manufacturing demonstration factories")],
    "water": [("河湖长制", "river and lake chief system"), ("污水处理厂提标改造", "upgrading sewage treatment plants"),
              ("水土保持", "soil and water conservation")],
    "culture": [("全域旅游示范区", "all-for-one tourism demonstration zones"), ("公共文化服务体系", "public cultural service system")],
    "elderly": [("社区居家养老服务", "community home-based elderly care"), ("医养结合", "integration of medical and elderly care")],
    "safety": [("危险化学品安全治理", "hazardous chemicals safety governance"), ("安全生产专项整治", "special rectification of work safety")],
    "finance": [("普惠金融", "inclusive finance"), ("地方政府专项债券管理", "management of local government special bonds")],
}
VERBS = [("推进", "Advance"), ("加快", "Accelerate"), ("完善", "Improve"), ("实施", "Implement"),
         ("深化", "Deepen"), ("加强", "Strengthen"), ("建设", "Build"), ("开展", "Carry out")]
INDICATORS = [("森林覆盖率", "forest coverage rate", "%"), ("农村生活污水治理率", "rural sewage treatment rate", "%"),
              ("5G基站数量", "number of 5G base stations", "万个"), ("城镇新增就业", "new urban jobs", "万人"),
              ("研发经费投入强度", "R&D intensity", "%"), ("高标准农田面积", "high-standard farmland area", "万亩"),
              ("PM2.5平均浓度", "average PM2.5 concentration", "μg/m³"), ("每千人口执业医师数", "physicians per 1000 people", "人")]
STATUS = [("进行中", "in progress"), ("已完成", "completed"), ("未启动", "not started"), ("延期", "delayed")]
LEVELS = ["national", "provincial", "municipal"]


def esc(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


class Writer:
    def __init__(self, fh):
        self.fh = fh
        self.n = 0

    def subject(self, subj, pairs):
        """pairs: list of (predicate, object) already in Turtle syntax."""
        self.fh.write(subj + " " + " ;\n    ".join(p + " " + o for p, o in pairs) + " .\n")
        self.n += len(pairs)


def lit(s, lang=None):
    return '"%s"@%s' % (esc(s), lang) if lang else '"%s"' % esc(s)


def typed(v, dt):
    return '"%s"^^xsd:%s' % (v, dt)


def generate(n_triples, out, seed=1):
    rnd = random.Random(seed)
    w = Writer(out)
    out.write("@prefix pol: <%s> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
              "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
              "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
              "@prefix region: <%sregion/> .\n@prefix agency: <%sagency/> .\n@prefix topic: <%stopic/> .\n"
              "@prefix plan: <%splan/> .\n@prefix goal: <%sgoal/> .\n@prefix task: <%stask/> .\n\n"
              % (ONT, ID, ID, ID, ID, ID, ID))

    # ---- topics
    for slug, zh, en in TOPICS:
        w.subject("topic:" + slug, [("a", "pol:Topic"), ("rdfs:label", lit(zh, "zh")), ("rdfs:label", lit(en, "en")),
                                    ("skos:notation", lit(slug))])

    # ---- regions: 34 provinces + cities scaled with size
    regions = []  # (curie, zh, en, province_index)
    for i, (code, zh, en) in enumerate(PROVINCES):
        curie = "region:" + code
        regions.append((curie, zh, en, i))
        w.subject(curie, [("a", "pol:Region"), ("a", "pol:Province"), ("rdfs:label", lit(zh, "zh")),
                          ("rdfs:label", lit(en, "en")), ("pol:regionCode", lit(code)),
                          ("pol:population", typed(rnd.randint(600, 12000) * 10000, "integer"))])
    n_cities = max(34, min(34 * 60, n_triples // 1500))
    used_codes = set()
    for c in range(n_cities):
        # city 0 of Zhejiang is fixed to code 330100 (Hangzhou-like anchor)
        pi = 10 if c == 0 else c % len(PROVINCES)
        pcode, pzh, pen = PROVINCES[pi]
        k = 1 if c == 0 else 2 + c // len(PROVINCES)
        code = "%s%02d00" % (pcode[:2], k % 100)
        if code in used_codes:
            continue
        used_codes.add(code)
        a, b = SYLLABLES[(c * 7) % len(SYLLABLES)], SYLLABLES[(c * 13 + 5) % len(SYLLABLES)]
        zh, en = a[0] + b[0] + "市", a[1] + b[1].lower() + " City"
        curie = "region:" + code
        regions.append((curie, zh, en, pi))
        w.subject(curie, [("a", "pol:Region"), ("a", "pol:City"), ("rdfs:label", lit(zh, "zh")),
                          ("rdfs:label", lit(en, "en")), ("pol:regionCode", lit(code)),
                          ("pol:parentRegion", "region:" + pcode),
                          ("pol:population", typed(rnd.randint(30, 1500) * 10000, "integer"))])

    # ---- agencies: national ministries + departments of provinces / cities
    agencies = []  # (curie, topics, region_curie or None)
    for i, (zh, en, topics) in enumerate(NATIONAL):
        curie = "agency:N%03d" % i
        agencies.append((curie, topics, None))
        w.subject(curie, [("a", "pol:Agency"), ("rdfs:label", lit(zh, "zh")), ("rdfs:label", lit(en, "en")),
                          ("pol:level", lit("national"))])
    n_agencies = max(40, n_triples // 400)
    for i in range(n_agencies):
        reg = regions[i % len(regions)]
        dzh, den, topics = DEPARTMENTS[(i // len(regions)) % len(DEPARTMENTS)]
        is_city = reg[0] != "region:" + PROVINCES[reg[3]][0]
        zh = reg[1] + (dzh.replace("厅", "局") if is_city else dzh)
        en = reg[2] + " " + (den.replace("Department", "Bureau") if is_city else den)
        curie = "agency:A%05d" % i
        parent = next(a[0] for a in agencies[:len(NATIONAL)] if set(a[1]) & set(topics))
        agencies.append((curie, topics, reg[0]))
        w.subject(curie, [("a", "pol:Agency"), ("rdfs:label", lit(zh, "zh")), ("rdfs:label", lit(en, "en")),
                          ("pol:level", lit("municipal" if is_city else "provincial")),
                          ("pol:locatedIn", reg[0]), ("pol:parentAgency", parent)])

    by_topic = {slug: [a for a in agencies if slug in a[1]] for slug, _, _ in TOPICS}
    by_topic_region = {}
    for a in agencies:
        for slug in a[1]:
            by_topic_region.setdefault((slug, a[2]), []).append(a)
    cities_of = {}
    for r in regions[len(PROVINCES):]:
        cities_of.setdefault(r[3], []).append(r)

    # ---- plans + goals
    n_plans = max(20, n_triples // 250)
    plans = []  # (curie, topic, region, goal curies)
    gid = 0
    for i in range(n_plans):
        slug, tzh, ten = TOPICS[i % len(TOPICS)]
        # half of the plans are provincial, half municipal
        reg = regions[(i // 2) % len(PROVINCES)] if i % 2 == 0 else regions[len(PROVINCES) + (i // 2) % (len(regions) - len(PROVINCES))]
        issuer = by_topic[slug][i % len(by_topic[slug])][0]
        year = 2016 + (i % 10)
        if i % 3 == 0:
            zh, en = "%s%s“十四五”规划" % (reg[1], tzh), "%s 14th Five-Year Plan for %s" % (reg[2], ten)
        elif i % 3 == 1:
            zh, en = "%s关于推进%s高质量发展的实施方案" % (reg[1], tzh), "%s Implementation Plan on High-Quality Development of %s" % (reg[2], ten)
        else:
            zh, en = "%s%s三年行动计划（%d—%d年）" % (reg[1], tzh, year, year + 2), "%s Three-Year Action Plan for %s (%d-%d)" % (reg[2], ten, year, year + 2)
        curie = "plan:P%06d" % i
        goals = []
        for _ in range(1 + i % 5):
            ind = INDICATORS[(gid * 3 + i) % len(INDICATORS)]
            g = "goal:G%06d" % gid
            gid += 1
            val = round(rnd.uniform(1, 100), 1)
            goals.append(g)
            w.subject(g, [("a", "pol:Goal"), ("rdfs:label", lit("%s达到%s%s" % (ind[0], val, ind[2]), "zh")),
                          ("rdfs:label", lit("%s reaches %s %s" % (ind[1], val, ind[2]), "en")),
                          ("pol:goalOf", curie), ("pol:indicator", lit(ind[0], "zh")),
                          ("pol:targetValue", typed(val, "decimal")), ("pol:unit", lit(ind[2])),
                          ("pol:targetYear", typed(year + 5, "gYear"))])
        plans.append((curie, slug, reg, goals))
        w.subject(curie, [("a", "pol:Plan"), ("rdfs:label", lit(zh, "zh")), ("rdfs:label", lit(en, "en")),
                          ("pol:documentNumber", lit("%s政发〔%d〕%d号" % (reg[1][:1], year, 1 + i % 97))),
                          ("pol:issuedBy", issuer), ("pol:appliesTo", reg[0]), ("pol:topic", "topic:" + slug),
                          ("pol:issuedDate", typed("%d-%02d-%02d" % (year, 1 + i % 12, 1 + i % 28), "date")),
                          ("pol:status", lit(STATUS[i % 3][0], "zh"))])

    # ---- tasks fill the remaining budget
    i = 0
    while w.n < n_triples:
        plan = plans[rnd.randrange(len(plans))] if i != 42 else plans[7]
        slug = plan[1]
        obj = TASK_OBJECTS[slug][rnd.randrange(len(TASK_OBJECTS[slug]))]
        verb = VERBS[rnd.randrange(len(VERBS))]
        # tasks live in the plan's region or one of its cities
        reg = plan[2]
        if rnd.random() < 0.6:
            cities = cities_of.get(reg[3])
            if cities and reg is regions[reg[3]]:
                reg = cities[rnd.randrange(len(cities))]
        cand = (by_topic_region.get((slug, reg[0]), []) + by_topic_region.get((slug, None), [])) or by_topic[slug]
        lead = cand[rnd.randrange(len(cand))][0]
        st = STATUS[rnd.randrange(len(STATUS))]
        pairs = [("a", "pol:Task"), ("rdfs:label", lit(verb[0] + obj[0], "zh")),
                 ("rdfs:label", lit(verb[1] + " " + obj[1], "en")), ("pol:identifier", lit("T%06d" % i)),
                 ("pol:partOfPlan", plan[0]), ("pol:leadAgency", lead)]
        for _ in range(rnd.randrange(3)):
            co = by_topic[slug][rnd.randrange(len(by_topic[slug]))][0]
            if co != lead and ("pol:coAgency", co) not in pairs:
                pairs.append(("pol:coAgency", co))
        pairs += [("pol:region", reg[0]), ("pol:topic", "topic:" + slug)]
        if rnd.random() < 0.7:
            pairs.append(("pol:contributesTo", plan[3][rnd.randrange(len(plan[3]))]))
        y = 2021 + rnd.randrange(6)
        pairs += [("pol:deadline", typed("%d-%02d-%02d" % (y, 1 + rnd.randrange(12), 1 + rnd.randrange(28)), "date")),
                  ("pol:priority", typed(1 + rnd.randrange(3), "integer"))]
        if rnd.random() < 0.6:
            pairs.append(("pol:budget", typed("%d.%02d" % (rnd.randrange(50, 50000), rnd.randrange(100)), "decimal")))
        pairs.append(("pol:status", lit(st[0], "zh")))
        w.subject("task:T%06d" % i, pairs)
        i += 1
    return w.n, i


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=float, default=1e5, help="target triple count (e.g. 1e4, 1e5, 1e6)")
    ap.add_argument("--out", default="-", help="output .ttl path, '-' for stdout")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    n = int(args.triples)
    if n < 10000:
        ap.error("--triples must be >= 1e4 so that the query anchors exist")
    if args.out == "-":
        total, tasks = generate(n, sys.stdout, args.seed)
    else:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            total, tasks = generate(n, fh, args.seed)
    print("wrote %d triples (%d tasks) to %s" % (total, tasks, args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
