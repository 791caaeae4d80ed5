"""Bao'an district (Shenzhen) reference data for demo fixtures: 10 sub-districts, 124 communities.

Pure data: no Django, no I/O. ``check()`` asserts the invariants the demo loader relies on.

What is real and what is not
----------------------------
Sub-district (街道) codes -- REAL. ``440306017`` ... ``440306026`` are the national statistical
division codes (统计用区划代码) given to Bao'an's ten sub-districts after the December 2016 split
(6 -> 10 sub-districts), taken from the NBS-derived dataset modood/Administrative-divisions-of-China
(``dist/streets.csv``). Older material uses pre-2016 codes (e.g. 440306011 for 新安); do not mix them.

Community (社区) codes -- SYNTHETIC, except one. Each is the street code plus a sequence number
in the order listed here. The only code known to be the official one is 龙珠社区 = 440306018021
(a third-party mirror of the NBS tables); it is flagged ``code_is_official: True``, every other
community has ``code_is_official: False`` (an extra key next to the four the brief asked for).
Never present synthetic codes as official; a sequence code may even equal the official code of a
different community.

Community names -- 122 real, 2 labelled placeholders ("XX街道示例社区NN", ``name_is_real: False``).
Where the real names come from:
* 航城 (9): Chinese Wikipedia, "航城街道 (深圳市)" (黄麻布、九围、黄田、钟屋、鹤洲、后瑞、草围、三围、利锦).
* 松岗 (13): a "松岗街道各社区地名由来" gazetteer page listing all thirteen.
* 新安 / 石岩: a public GitHub demo file carrying pre-2016 NBS-style codes (440306011xxx /
  440306006xxx), plus 海滨社区 (新安), seen in several recent addresses.
* Most of the rest: registered business/postal addresses of the form "宝安区X街道Y社区" in public
  code, Shenzhen public-library branch names ("宝安区X街道Y阅读中心"), and the 龙珠社区 gazetteer
  entry, whose neighbour list names 河东、河西、柳竹、西乡、富华、臣田、龙腾、固戍.
* From background knowledge, not re-checked against a source in this pass: 沙一、沙三、蚝一~蚝四、
  衙边、东塘 (沙井); 上寮 (新桥); 山门 (燕罗).

Counts per sub-district are a fit, not an official table. Known counts: 航城 9, 福永 7 (2022),
沙井 21 (2021), 松岗 13, 燕罗 5 (2020). The split of the remaining communities between 新安, 西乡,
福海 and 石岩 is ours, chosen so the district total is the 124 the source article gives. Left out
for that reason or because they could not be confirmed: 文雅社区 (新安) and a "龙腾" community in
石岩 (both only in the pre-2016 list), 下十围/新田 (福永/福海?), 上南/沙井社区 (沙井?). The two
placeholders sit in 福永 and 沙井. English names are Hanyu Pinyin; 涌 in local place names is
rendered "chong" (步涌 Buchong, 塘下涌 Tangxiachong), as in local usage.

Seed article correction: 固戍社区 belongs to 西乡街道, not 航城街道 (航城's nine communities above do
not include it; addresses and the 龙珠 gazetteer entry put 固戍 in 西乡).

``SEED_STORIES`` restates, faithfully and without additions, what the 2024-11-20 report
"深圳宝安：打造群众爱来的“百姓客厅”" (中共广东省委组织部) says about nine communities.
"""

from typing import Any

ARTICLE: dict[str, Any] = {
    "title": "深圳宝安：打造群众爱来的“百姓客厅”",
    "publisher": "中共广东省委组织部",
    "published": "2024-11-20",
    "url": "https://www.gdzz.gov.cn/zgxc/gddt/content/post_21971.html",
    "district_code": "440306",
    "district_name": "宝安区",
    "district_name_en": "Bao'an District",
    "community_count": 124,
    "managed_population_min": 5_000_000,  # "管理人口500多万"
    "pilot_centers": 25,  # "政府+公益+商业" / "党建+服务""公益+运营" pilots
    "pilot_foot_traffic_factor": 2.0,  # "人流量也基本实现了翻倍" (roughly doubled)
}

# fmt: off
STREETS: list[dict[str, Any]] = [
    {
        "code": "440306017",
        "name": "新安街道",
        "name_en": "Xin'an Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306017001", "name": "安乐社区", "name_en": "Anle Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017002", "name": "宝民社区", "name_en": "Baomin Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017003", "name": "布心社区", "name_en": "Buxin Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017004", "name": "大浪社区", "name_en": "Dalang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017005", "name": "翻身社区", "name_en": "Fanshen Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017006", "name": "海富社区", "name_en": "Haifu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017007", "name": "海华社区", "name_en": "Haihua Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017008", "name": "海乐社区", "name_en": "Haile Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017009", "name": "海旺社区", "name_en": "Haiwang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017010", "name": "海裕社区", "name_en": "Haiyu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017011", "name": "洪浪社区", "name_en": "Honglang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017012", "name": "甲岸社区", "name_en": "Jia'an Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017013", "name": "建安社区", "name_en": "Jian'an Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017014", "name": "灵芝园社区", "name_en": "Lingzhiyuan Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017015", "name": "龙井社区", "name_en": "Longjing Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017016", "name": "上川社区", "name_en": "Shangchuan Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017017", "name": "上合社区", "name_en": "Shanghe Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017018", "name": "文汇社区", "name_en": "Wenhui Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017019", "name": "新安湖社区", "name_en": "Xin'anhu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017020", "name": "新乐社区", "name_en": "Xinle Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017021", "name": "兴东社区", "name_en": "Xingdong Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306017022", "name": "海滨社区", "name_en": "Haibin Community",
             "name_is_real": True, "code_is_official": False},
        ],
    },
    {
        "code": "440306018",
        "name": "西乡街道",
        "name_en": "Xixiang Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306018001", "name": "西乡社区", "name_en": "Xixiang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018002", "name": "河西社区", "name_en": "Hexi Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018003", "name": "河东社区", "name_en": "Hedong Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018004", "name": "柳竹社区", "name_en": "Liuzhu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018005", "name": "龙腾社区", "name_en": "Longteng Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018006", "name": "臣田社区", "name_en": "Chentian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018007", "name": "富华社区", "name_en": "Fuhua Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018008", "name": "流塘社区", "name_en": "Liutang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018009", "name": "固戍社区", "name_en": "Gushu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018010", "name": "南昌社区", "name_en": "Nanchang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018011", "name": "永丰社区", "name_en": "Yongfeng Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018012", "name": "福中福社区", "name_en": "Fuzhongfu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018013", "name": "渔业社区", "name_en": "Yuye Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018014", "name": "盐田社区", "name_en": "Yantian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018015", "name": "共乐社区", "name_en": "Gongle Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018016", "name": "劳动社区", "name_en": "Laodong Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018017", "name": "铁岗社区", "name_en": "Tiegang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018018", "name": "桃源社区", "name_en": "Taoyuan Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018019", "name": "蚝业社区", "name_en": "Haoye Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018020", "name": "凤凰岗社区", "name_en": "Fenghuanggang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018021", "name": "龙珠社区", "name_en": "Longzhu Community",
             "name_is_real": True, "code_is_official": True},
            {"code": "440306018022", "name": "乐群社区", "name_en": "Lequn Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306018023", "name": "麻布社区", "name_en": "Mabu Community",
             "name_is_real": True, "code_is_official": False},
        ],
    },
    {
        "code": "440306019",
        "name": "航城街道",
        "name_en": "Hangcheng Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306019001", "name": "黄田社区", "name_en": "Huangtian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306019002", "name": "钟屋社区", "name_en": "Zhongwu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306019003", "name": "鹤洲社区", "name_en": "Hezhou Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306019004", "name": "九围社区", "name_en": "Jiuwei Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306019005", "name": "三围社区", "name_en": "Sanwei Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306019006", "name": "草围社区", "name_en": "Caowei Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306019007", "name": "后瑞社区", "name_en": "Hourui Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306019008", "name": "黄麻布社区", "name_en": "Huangmabu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306019009", "name": "利锦社区", "name_en": "Lijin Community",
             "name_is_real": True, "code_is_official": False},
        ],
    },
    {
        "code": "440306020",
        "name": "福永街道",
        "name_en": "Fuyong Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306020001", "name": "福永社区", "name_en": "Fuyong Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306020002", "name": "凤凰社区", "name_en": "Fenghuang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306020003", "name": "白石厦社区", "name_en": "Baishixia Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306020004", "name": "怀德社区", "name_en": "Huaide Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306020005", "name": "福围社区", "name_en": "Fuwei Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306020006", "name": "兴围社区", "name_en": "Xingwei Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306020007", "name": "福永街道示例社区07", "name_en": "Fuyong sample community 07",
             "name_is_real": False, "code_is_official": False},
        ],
    },
    {
        "code": "440306021",
        "name": "福海街道",
        "name_en": "Fuhai Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306021001", "name": "桥头社区", "name_en": "Qiaotou Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306021002", "name": "塘尾社区", "name_en": "Tangwei Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306021003", "name": "和平社区", "name_en": "Heping Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306021004", "name": "新和社区", "name_en": "Xinhe Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306021005", "name": "稔田社区", "name_en": "Rentian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306021006", "name": "展城社区", "name_en": "Zhancheng Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306021007", "name": "大洋社区", "name_en": "Dayang Community",
             "name_is_real": True, "code_is_official": False},
        ],
    },
    {
        "code": "440306022",
        "name": "沙井街道",
        "name_en": "Shajing Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306022001", "name": "沙头社区", "name_en": "Shatou Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022002", "name": "沙一社区", "name_en": "Shayi Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022003", "name": "沙二社区", "name_en": "Sha'er Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022004", "name": "沙三社区", "name_en": "Shasan Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022005", "name": "沙四社区", "name_en": "Shasi Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022006", "name": "蚝一社区", "name_en": "Haoyi Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022007", "name": "蚝二社区", "name_en": "Hao'er Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022008", "name": "蚝三社区", "name_en": "Haosan Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022009", "name": "蚝四社区", "name_en": "Haosi Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022010", "name": "衙边社区", "name_en": "Yabian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022011", "name": "壆岗社区", "name_en": "Xuegang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022012", "name": "步涌社区", "name_en": "Buchong Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022013", "name": "后亭社区", "name_en": "Houting Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022014", "name": "东塘社区", "name_en": "Dongtang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022015", "name": "共和社区", "name_en": "Gonghe Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022016", "name": "辛养社区", "name_en": "Xinyang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022017", "name": "马安山社区", "name_en": "Ma'anshan Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022018", "name": "坣岗社区", "name_en": "Tanggang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022019", "name": "民主社区", "name_en": "Minzhu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022020", "name": "大王山社区", "name_en": "Dawangshan Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306022021", "name": "沙井街道示例社区21", "name_en": "Shajing sample community 21",
             "name_is_real": False, "code_is_official": False},
        ],
    },
    {
        "code": "440306023",
        "name": "新桥街道",
        "name_en": "Xinqiao Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306023001", "name": "新桥社区", "name_en": "Xinqiao Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306023002", "name": "上星社区", "name_en": "Shangxing Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306023003", "name": "上寮社区", "name_en": "Shangliao Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306023004", "name": "万丰社区", "name_en": "Wanfeng Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306023005", "name": "沙企社区", "name_en": "Shaqi Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306023006", "name": "黄埔社区", "name_en": "Huangpu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306023007", "name": "新二社区", "name_en": "Xin'er Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306023008", "name": "象山社区", "name_en": "Xiangshan Community",
             "name_is_real": True, "code_is_official": False},
        ],
    },
    {
        "code": "440306024",
        "name": "松岗街道",
        "name_en": "Songgang Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306024001", "name": "东方社区", "name_en": "Dongfang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024002", "name": "潭头社区", "name_en": "Tantou Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024003", "name": "红星社区", "name_en": "Hongxing Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024004", "name": "松岗社区", "name_en": "Songgang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024005", "name": "楼岗社区", "name_en": "Lougang Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024006", "name": "溪头社区", "name_en": "Xitou Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024007", "name": "沙浦社区", "name_en": "Shapu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024008", "name": "沙浦围社区", "name_en": "Shapuwei Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024009", "name": "江边社区", "name_en": "Jiangbian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024010", "name": "朗下社区", "name_en": "Langxia Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024011", "name": "碧头社区", "name_en": "Bitou Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024012", "name": "松涛社区", "name_en": "Songtao Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306024013", "name": "花果山社区", "name_en": "Huaguoshan Community",
             "name_is_real": True, "code_is_official": False},
        ],
    },
    {
        "code": "440306025",
        "name": "燕罗街道",
        "name_en": "Yanluo Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306025001", "name": "燕川社区", "name_en": "Yanchuan Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306025002", "name": "罗田社区", "name_en": "Luotian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306025003", "name": "塘下涌社区", "name_en": "Tangxiachong Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306025004", "name": "山门社区", "name_en": "Shanmen Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306025005", "name": "洪桥头社区", "name_en": "Hongqiaotou Community",
             "name_is_real": True, "code_is_official": False},
        ],
    },
    {
        "code": "440306026",
        "name": "石岩街道",
        "name_en": "Shiyan Subdistrict",
        "code_is_official": True,
        "communities": [
            {"code": "440306026001", "name": "官田社区", "name_en": "Guantian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306026002", "name": "浪心社区", "name_en": "Langxin Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306026003", "name": "石龙社区", "name_en": "Shilong Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306026004", "name": "应人石社区", "name_en": "Yingrenshi Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306026005", "name": "塘头社区", "name_en": "Tangtou Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306026006", "name": "水田社区", "name_en": "Shuitian Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306026007", "name": "罗租社区", "name_en": "Luozu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306026008", "name": "上屋社区", "name_en": "Shangwu Community",
             "name_is_real": True, "code_is_official": False},
            {"code": "440306026009", "name": "宝源社区", "name_en": "Baoyuan Community",
             "name_is_real": True, "code_is_official": False},
        ],
    },
]
# fmt: on

SEED_STORIES: dict[str, dict[str, Any]] = {
    "固戍社区": {
        "street": "西乡街道",
        "office_share_before": 0.50,
        "office_share_after": 0.22,  # "22%左右" (about 22%)
        "converted_floor": 3,
        "converted_to": ["自习室", "阅读室", "活动室"],
        "converted_to_en": ["study room", "reading room", "activity room"],
        "story_zh": (
            "社区将原本用来办公的三楼全部改造成自习室、阅读室、活动室等服务群众区域，"
            "办公面积从50%精简至22%左右，为居民提供了更加宽敞、舒适的服务环境。"
        ),
        "story_en": (
            "The community turned its whole third floor, formerly offices, into a study room, "
            "reading room, activity rooms and other space for residents; the office share of "
            "the floor area went from 50% to about 22%, giving residents a roomier, more "
            "comfortable place."
        ),
    },
    "利锦社区": {
        "street": "航城街道",
        "uses_nearby_park": True,
        "rider_requests_fulfilled": ["短暂休憩场所", "便民医药箱"],
        "rider_requests_fulfilled_en": ["short rest spot", "medicine box"],
        "story_zh": (
            "社区统筹利用好周边社区公园等场地和资源，扩大了服务区域、增加了服务内容；"
            "征集改造意见时，有外卖小哥提出增设短暂休憩场所、便民医药箱等意见，"
            "得到了社区的一一回应和落实。"
        ),
        "story_en": (
            "The community drew on the nearby community park and other spaces to enlarge its "
            "service area and add services. When it asked for renovation ideas, a delivery "
            "rider suggested a short rest spot and a medicine box; the community answered "
            "each suggestion and built both."
        ),
    },
    "龙珠社区": {
        "street": "西乡街道",
        "provider_kind": "社会组织",
        "course_price_ratio": 0.2,  # 市场价2折 = 20% of market price
        "course_topics": ["绘画", "书法", "传统非遗", "艺术讲座"],
        "course_topics_en": ["painting", "calligraphy", "traditional intangible heritage", "art lectures"],
        "story_zh": (
            "党群服务中心引入社会组织，让群众以市场价2折的优惠参加绘画、书法、传统非遗、艺术讲座等公益课程。"
        ),
        "story_en": (
            "The center brought in a social organisation, so residents can join public-welfare "
            "courses in painting, calligraphy, traditional intangible heritage and art lectures "
            "at 20% of the market price."
        ),
    },
    "福中福社区": {
        "street": "西乡街道",
        "rider_meal_basic_yuan": 10,  # "10元管饱" (fills you up)
        "rider_meal_good_yuan": 15,  # "15元吃好" (eat well)
        "meal_eligibility": "外卖和快递小哥凭有效证件",
        "meal_eligibility_en": "delivery riders and couriers showing a valid credential",
        "story_zh": "外卖和快递小哥凭有效证件就能享受到“10元管饱、15元吃好”的惠民套餐。",
        "story_en": (
            "Delivery riders and couriers who show a valid credential get a 10-yuan "
            '"fills you up" or a 15-yuan "eat well" set meal.'
        ),
    },
    "东塘社区": {
        "street": "沙井街道",  # street not named in the article; see module docstring
        "reading_room_with_coffee": True,
        "audience": "青年",
        "story_zh": "东塘社区的青年下班后，经常来党群服务中心阅读室里边看书边喝咖啡。",
        "story_en": (
            "Young people in Dongtang often come to the center's reading room after work "
            "to read over a coffee."
        ),
    },
    "朗下社区": {
        "street": "松岗街道",
        "points_from": "志愿活动",
        "points_redeem_at": "自助售卖机",
        "points_redeem_for": "饮料",
        "story_zh": "群众通过参加志愿活动换取积分后，可以在自助售卖机换取饮料。",
        "story_en": (
            "Residents earn points by volunteering and swap them for drinks at a self-service "
            "vending machine."
        ),
    },
    "兴东社区": {
        "street": "新安街道",
        "near_industrial_parks": True,
        "employment_station": "宝就业",
        "employment_station_operator": "区人力资源局",
        "employment_station_services": ["就业指导", "职业培训", "人才招募"],
        "employment_station_services_en": ["job guidance", "vocational training", "talent recruitment"],
        "story_zh": (
            "兴东社区周边园区较多，区人力资源局在社区党群服务中心建立“宝就业”就业指导基层服务站，"
            "开展就业指导、职业培训、人才招募等服务，着力破解企业“招工难”和群众“求职难”问题。"
        ),
        "story_en": (
            "Xingdong is surrounded by industrial parks, so the district human-resources bureau "
            'opened a "Bao Jiuye" employment station in the center, offering job guidance, '
            "vocational training and recruitment, to tackle firms' \"can't hire\" and residents' "
            '"can\'t find work" problems.'
        ),
    },
    "宝民社区": {
        "street": "新安街道",
        "rehab_room": True,
        "rehab_partners": ["区残联", "宝安中医院"],
        "rehab_partners_en": ["district disabled persons' federation", "Bao'an TCM hospital"],
        "story_zh": (
            "在宝民社区党群服务中心，区残联与宝安中医院投入资源，建立康复室，为辖区残障人群提供康复服务。"
        ),
        "story_en": (
            "At the Baomin center, the district disabled persons' federation and the Bao'an "
            "hospital of traditional Chinese medicine put in resources to set up a "
            "rehabilitation room serving disabled residents."
        ),
    },
    "后亭社区": {
        "street": "沙井街道",
        "talents_min": 30,  # "30余名" (30+)
        "talent_kinds": ["文艺达人", "专业达人"],
        "talent_kinds_en": ["arts talent", "professional talent"],
        "spaces": ["舞蹈室", "健身房", "活动室"],
        "spaces_en": ["dance room", "gym", "activity room"],
        "classes": ["非遗手工", "舞蹈"],
        "classes_en": ["intangible-heritage crafts", "dance"],
        "story_zh": (
            "后亭社区居住的年轻人多，社区党委以党群服务中心的舞蹈室、健身房、活动室等为依托，"
            "建立社区“达人库”，招募“文艺达人”“专业达人”等30余名，定期开展非遗手工、舞蹈等课程。"
        ),
        "story_en": (
            "Many young people live in Houting. Using the center's dance room, gym and activity "
            'rooms, the community Party committee built a talent pool of 30+ "arts talents" '
            'and "professional talents" who run regular intangible-heritage craft and dance '
            "classes."
        ),
    },
}


def check():
    """Assert the invariants the demo loader relies on; return True."""
    assert len(STREETS) == 10, len(STREETS)
    codes: set[str] = set()
    street_of: dict[str, set[str]] = {}
    for street in STREETS:
        s_code = street["code"]
        assert len(s_code) == 9 and s_code.isdigit() and s_code.startswith("440306"), s_code
        for c in street["communities"]:
            code = c["code"]
            assert len(code) == 12 and code.isdigit() and code.startswith(s_code), code
            assert code not in codes, code
            codes.add(code)
            if not c["name_is_real"]:
                assert "示例社区" in c["name"] and "sample community" in c["name_en"], c
            street_of.setdefault(c["name"], set()).add(street["name"])
    assert len(codes) == ARTICLE["community_count"] == 124, len(codes)
    assert len(SEED_STORIES) == 9
    for name, story in SEED_STORIES.items():
        assert story["street"] in street_of.get(name, ()), name
    return True
