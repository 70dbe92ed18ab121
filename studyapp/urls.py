from django.urls import path

from studyapp import views

app_name = "studyapp"
urlpatterns = [
    path("", views.home, name="home"),
]
