from rest_framework.routers import SimpleRouter

from tasks.api import AgencyViewSet, AssignmentViewSet, PhaseViewSet, TaskGroupViewSet, TaskViewSet

router = SimpleRouter()
router.register("groups", TaskGroupViewSet, basename="group")
router.register("phases", PhaseViewSet, basename="phase")
router.register("agencies", AgencyViewSet, basename="agency")
router.register("tasks", TaskViewSet, basename="task")
router.register("assignments", AssignmentViewSet, basename="assignment")
urlpatterns = router.urls
