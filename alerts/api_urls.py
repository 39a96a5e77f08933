from rest_framework.routers import SimpleRouter

from alerts.api import AlertViewSet, BlockerViewSet, NotificationViewSet, SupportRequestViewSet

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")
router.register("alerts", AlertViewSet, basename="alert")
router.register("blockers", BlockerViewSet, basename="blocker")
router.register("support-requests", SupportRequestViewSet, basename="support-request")
urlpatterns = router.urls
