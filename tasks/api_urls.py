from rest_framework.routers import SimpleRouter

from tasks.api import (
    AgencyViewSet,
    AssignmentViewSet,
    PhaseViewSet,
    TaskGroupViewSet,
    TaskViewSet,
    WorkingGroupViewSet,
)
from tasks.plans_api import LocalPlanViewSet, SubTaskViewSet

router = SimpleRouter()
router.register("groups", TaskGroupViewSet, basename="group")
router.register("phases", PhaseViewSet, basename="phase")
router.register("agencies", AgencyViewSet, basename="agency")
router.register("working-groups", WorkingGroupViewSet, basename="working-group")
router.register("tasks", TaskViewSet, basename="task")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("plans", LocalPlanViewSet, basename="plan")
router.register("subtasks", SubTaskViewSet, basename="subtask")
urlpatterns = router.urls
