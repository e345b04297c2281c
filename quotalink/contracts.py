"""The source contracts as data: files, encodings, columns and keys of every raw table."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawTable:
    """One kind of delivered record and the raw table it lands in."""

    source: str
    table: str  # raw.<table>
    columns: tuple[str, ...]  # as delivered, in contract order
    required: tuple[str, ...]  # a delivery lacking one of these is rejected whole
    key: str  # column (or derived name) identifying a record within the source
    pattern: str | None = None  # file-name pattern for file drops (period in group 'period')
    encoding: str | None = None
    fmt: str = "csv"  # csv, xlsx, api, db
    extra_raw_columns: tuple[str, ...] = field(default_factory=tuple)
    # Staging tables its rows become (`schema.table`): the asset graph is derived from this,
    # and staging refuses a row for any other table.
    stages: tuple[str, ...] = ()


DISABILITY_REGISTRY = RawTable(
    source="disability_registry",
    table="disability_registry",
    columns=(
        "残疾人证号", "姓名", "性别", "民族", "出生日期", "公民身份号码", "残疾类别", "残疾等级",
        "发证日期", "有效期至", "证件状态", "注销日期", "注销原因", "户籍地区划代码", "现居住地址",
        "联系电话", "更新时间",
    ),
    required=("残疾人证号", "姓名", "公民身份号码", "残疾类别", "残疾等级", "证件状态"),
    key="残疾人证号",
    pattern=r"^cjrxx_(?P<period>\d{6})\.csv$",
    encoding="utf-8-sig",
    stages=("staging.certificate", "staging.person_mention"),
)

QUOTA_DECLARATIONS = RawTable(
    source="quota",
    table="quota_declarations",
    columns=(
        "declaration_id", "declaration_year", "unit_name", "uscc", "org_code", "unit_region_code",
        "unit_type", "total_staff", "avg_annual_wage", "disabled_declared", "status",
        "submitted_at", "updated_at",
    ),
    required=("declaration_id", "declaration_year", "unit_name", "updated_at"),
    key="declaration_id",
    fmt="api",
    stages=("staging.declaration", "staging.employer_mention"),
)

QUOTA_EMPLOYEES = RawTable(
    source="quota",
    table="quota_declared_employees",
    columns=(
        "employee_record_id", "declaration_id", "name", "id_number", "cert_number",
        "disability_category", "disability_level", "contract_start", "contract_end",
        "monthly_wage", "si_months", "position", "employment_type", "updated_at",
    ),
    required=("employee_record_id", "declaration_id", "name", "updated_at"),
    key="employee_record_id",
    fmt="api",
    extra_raw_columns=("declaration_year",),
    stages=("staging.declared_employment", "staging.person_mention"),
)

HR_AB01 = RawTable(
    source="hr", table="hr_ab01",
    columns=("aab001", "aab003", "aab004", "aab019", "aab301", "aae036"),
    required=("aab001", "aab004", "aae036"), key="aab001", fmt="db",
    stages=("staging.employer_mention",),
)
HR_AC01 = RawTable(
    source="hr", table="hr_ac01",
    columns=("aac001", "aac002", "aac003", "aac004", "aac006", "aae005", "aae036"),
    required=("aac001", "aac003", "aae036"), key="aac001", fmt="db",
    stages=("staging.person_mention",),
)
HR_AC08 = RawTable(
    source="hr", table="hr_ac08",
    columns=("aaz223", "aac001", "aab001", "aae002", "aae140", "aac040", "aae078", "aae036"),
    required=("aaz223", "aac001", "aab001", "aae002", "aae140", "aae036"), key="aaz223", fmt="db",
    stages=("staging.contribution",),
)

EMPLOYMENT_SERVICE = RawTable(
    source="employment_service",
    table="employment_service",
    columns=(
        "登记编号", "姓名", "身份证号", "残疾证号", "性别", "残疾类别", "残疾等级", "就业形式",
        "就业单位", "单位社会信用代码", "就业日期", "离职日期", "月收入（元）", "户籍所在地",
        "登记机构", "登记日期", "操作类型",
    ),
    required=("登记编号", "姓名", "操作类型"),
    key="登记编号",
    pattern=r"^jyxx_(?P<period>\d{6})\.csv$",
    encoding="gb18030",
    stages=(
        "staging.employment_registration",
        "staging.person_mention",
        "staging.employer_mention",
    ),
)

TRAINING = RawTable(
    source="training",
    table="training",
    columns=(
        "序号", "学员编号", "姓名", "证件类型", "证件号码", "性别", "年龄", "联系电话",
        "培训项目名称", "培训类别", "培训机构", "开班日期", "结业日期", "培训结果", "是否取得证书",
        "所在市",
    ),
    required=("学员编号", "姓名", "证件号码"),
    key="学员编号",
    pattern=r"^pxxy_(?P<period>\d{4}Q[1-4])\.xlsx$",
    fmt="xlsx",
    stages=("staging.training", "staging.person_mention"),
)

GRADUATES = RawTable(
    source="graduates",
    table="graduates",
    columns=(
        "学校代码", "学号", "姓名", "身份证号", "残疾证号", "性别", "出生年月", "残疾类别",
        "学历层次", "专业", "入学年份", "预计毕业时间", "毕业去向", "就业单位", "联系电话",
        "帮扶措施", "更新日期",
    ),
    required=("学校代码", "学号", "姓名"),
    key="学校代码-学号",
    pattern=r"^gxcjrdxs_(?P<period>\d{4})\.xlsx$",
    fmt="xlsx",
    extra_raw_columns=("sheet",),
    stages=("staging.study", "staging.person_mention", "staging.employer_mention"),
)

ORG = RawTable(
    source="org",
    table="org",
    columns=(
        "人员编号", "姓名", "身份证号", "性别", "出生日期", "工作单位", "单位统一社会信用代码",
        "职务职级", "进入本单位时间", "是否持残疾人证", "残疾人证号", "编制类型",
    ),
    required=("人员编号", "姓名", "工作单位"),
    key="人员编号",
    pattern=r"^jgry_(?P<period>\d{4})\.csv$",
    encoding="gb18030",
    stages=("staging.civil_service", "staging.person_mention", "staging.employer_mention"),
)

ESTABLISHMENT = RawTable(
    source="establishment",
    table="establishment",
    columns=(
        "统一社会信用代码", "机构名称", "机构类别", "主管部门", "所在地区代码", "核定编制数",
        "实有人数", "残疾人在职人数", "是否中小学幼儿园", "是否残联机关", "更新日期",
    ),
    required=("统一社会信用代码", "机构名称"),
    key="统一社会信用代码",
    pattern=r"^jgbz_(?P<period>\d{4})\.csv$",
    encoding="utf-8",
    stages=("staging.institution", "staging.employer_mention"),
)

UNEMPLOYED_SURVEY = RawTable(
    source="unemployed_survey",
    table="unemployed_survey",
    columns=(
        "调查表编号", "调查年度", "姓名", "身份证号", "残疾证号", "残疾类别", "残疾等级", "户籍地址",
        "联系电话", "未就业原因", "就业意愿", "培训需求", "调查日期", "调查员",
    ),
    required=("调查表编号", "姓名", "调查日期"),
    key="调查表编号",
    pattern=r"^wjydc_(?P<period>\d{4})\.csv$",
    encoding="gb18030",
    stages=("staging.survey", "staging.person_mention"),
)

RAW_TABLES: tuple[RawTable, ...] = (
    DISABILITY_REGISTRY, QUOTA_DECLARATIONS, QUOTA_EMPLOYEES, HR_AB01, HR_AC01, HR_AC08,
    EMPLOYMENT_SERVICE, TRAINING, GRADUATES, ORG, ESTABLISHMENT, UNEMPLOYED_SURVEY,
)
FILE_SOURCES = tuple(t for t in RAW_TABLES if t.fmt in ("csv", "xlsx"))
SOURCES = (
    "disability_registry", "quota", "hr", "employment_service", "training", "graduates", "org",
    "establishment", "unemployed_survey",
)
