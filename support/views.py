from django.http import HttpResponse


def board(r):
    return HttpResponse()


board_panel = incident_list = incident_new = incident_export = incident_detail = incident_action = attachment = (
    team_list
) = board
