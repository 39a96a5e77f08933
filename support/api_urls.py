from django.urls import path
from rest_framework.routers import SimpleRouter

from support.api import BoardView, CommuneRankingView, IncidentViewSet, TeamViewSet

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("teams", TeamViewSet, basename="team")
urlpatterns = [
    *router.urls,
    path("operations/board/", BoardView.as_view(), name="operations-board"),
    path("operations/communes/", CommuneRankingView.as_view(), name="operations-communes"),
]
