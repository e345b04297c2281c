"""One renderer per source; each writes its delivery exactly per source-contracts.md."""

from synthetic.render.employment_service import EmploymentServiceRenderer
from synthetic.render.establishment import EstablishmentRenderer
from synthetic.render.graduates import GraduatesRenderer
from synthetic.render.hr import HrRenderer
from synthetic.render.org import OrgRenderer
from synthetic.render.quota import QuotaRenderer
from synthetic.render.registry import RegistryRenderer
from synthetic.render.training import TrainingRenderer
from synthetic.render.unemployed_survey import SurveyRenderer

RENDERERS = (
    RegistryRenderer,
    QuotaRenderer,
    HrRenderer,
    EmploymentServiceRenderer,
    TrainingRenderer,
    GraduatesRenderer,
    OrgRenderer,
    EstablishmentRenderer,
    SurveyRenderer,
)

__all__ = ["RENDERERS"]
