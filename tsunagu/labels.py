"""Japanese names for the columns that tables show and downloads write."""

COLUMNS = {
    "prefecture": "都道府県", "municipality": "市町村", "district": "地区", "school_district": "小学校区",
    "population": "人口", "population_65plus": "65歳以上人口", "households": "世帯数",
    "aging_rate_pct": "高齢化率（%）", "n_districts": "地区数", "n_school_districts": "小学校区数",
    "fiscal_year": "年度（西暦）", "fiscal_year_label": "年度", "as_of_month": "時点", "month": "月",
    "n_active": "通いの場（活動中）", "n_subsidized": "うち補助金対象", "n_paused": "休止中",
    "active_per_1000_65plus": "65歳以上1,000人あたり", "municipality_per_1000_65plus": "市町村全体（1,000人あたり）",
    "is_gap": "手薄", "value": "区分", "participants_avg_total": "平均参加者数の合計",
    "participations_per_year": "年間延べ参加（推計）", "change": "変化", "place_id": "通いの場ID",
    "name": "名称", "category": "種別", "venue_type": "会場種別", "operator_type": "運営主体",
    "target": "対象", "sessions_per_month": "開催頻度（回/月）", "participants_avg": "平均参加者数",
    "subsidized": "補助金対象", "status": "状態", "started_on": "開始年月", "lat": "緯度", "lon": "経度",
    "n_sites": "設置数", "pantry_id": "パントリーID", "site_name": "設置場所名",
    "supporter_type": "サポーター種別", "activity_type": "活動種別", "new_donors": "新規提供者数",
    "cumulative_donors": "提供者（累計）", "donations": "提供件数", "households_served": "利用世帯数",
    "items_distributed": "配布点数", "consultations": "相談件数", "referrals": "つなぎ件数",
    "referral_rate_pct": "つなぎ率（%）", "n_months": "月数", "held_on": "開催日", "event_id": "行事ID",
    "title": "行事名", "event_type": "種別", "venue": "会場", "format": "開催形式",
    "attendees_onsite": "会場参加者数", "attendees_online": "オンライン参加者数",
    "attendees_total": "参加者数", "survey_responses": "アンケート回答数", "survey_positive": "肯定的回答数",
    "positive_rate_pct": "肯定的回答率（%）", "response_rate_pct": "回答率（%）", "n_events": "行事数",
    "last_held_on": "最後の開催日", "n_pantry_sites": "パントリー設置数",
    "pantry_per_10000_65plus": "パントリー（65歳以上1万人あたり）",
    "attendance_per_1000": "行事参加（人口1,000人あたり）", "rank_places": "順位（通いの場）",
    "rank_pantry": "順位（パントリー）", "rank_attendance": "順位（行事参加）", "distance": "近さ（小さいほど近い）",
    "is_chosen": "選択中", "measure": "項目", "district_value": "この地区", "municipality_value": "市町村",
}

MEASURES = {
    "population": ("人口", "人"), "population_65plus": ("65歳以上人口", "人"),
    "aging_rate_pct": ("高齢化率", "%"), "n_school_districts": ("小学校区", "区"),
    "n_active": ("通いの場（活動中）", "か所"), "n_subsidized": ("うち補助金対象", "か所"),
    "active_per_1000_65plus": ("通いの場（65歳以上1,000人あたり）", "か所"),
    "n_pantry_sites": ("互近助パントリー", "か所"), "households_served": ("パントリー利用世帯", "世帯"),
    "consultations": ("相談件数", "件"), "referrals": ("つなぎ件数", "件"),
    "n_events": ("行事（期間中）", "回"), "attendees_total": ("行事参加者（期間中）", "人"),
}

# the audit log's codes, as the history page shows them (the log itself keeps the codes)
ACTIONS = {"ingest": "登録", "demo": "デモデータ作成", "restore": "前の版に戻す", "repair": "壊れた月の修復",
           "bench": "ベンチマーク", "synth": "合成データ作成"}
OUTCOMES = {"committed": "登録済み", "committed (recovered)": "登録済み（中断から回復）",
            "refused": "登録せず（エラーあり）", "failed": "失敗", "interrupted": "中断"}

# the month's headline figures (overview query), on the home page and on paper alike
HEADLINES = [
    ("n_active_places", "通いの場（活動中）", "か所"),
    ("n_subsidized_places", "うち補助金対象", "か所"),
    ("n_pantry_sites", "互近助パントリー", "か所"),
    ("households_served", "パントリー利用世帯", "世帯"),
    ("consultations", "相談件数", "件"),
    ("referrals", "つなぎ件数", "件"),
    ("attendees_total", "フォーラム・交流会 参加者", "人"),
    ("n_events", "フォーラム・交流会", "回"),
]
