from rest_framework.routers import SimpleRouter

from localities.api import CommuneViewSet, ProvinceViewSet

router = SimpleRouter()
router.register("provinces", ProvinceViewSet, basename="province")
router.register("communes", CommuneViewSet, basename="commune")
urlpatterns = router.urls
