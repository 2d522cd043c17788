from django.urls import path

from . import courseware_views as cwv
from . import views

urlpatterns: list = [
    path("teach/", views.TeachingHome.as_view(), name="teach"),
    path("teach/screen/", views.ScreenPage.as_view(), name="teach-screen"),
    path("teach/qr/<str:token>", views.ScanPage.as_view(), name="teach-scan"),
    path("teach/logins/<str:public_id>/confirm", views.DecidePage.as_view(), name="teach-confirm"),
    path("teach/logins/<str:public_id>/reject", views.RejectPage.as_view(), name="teach-reject"),
    path("teach/outlines/<int:pk>/", views.OutlinePage.as_view(), name="teach-outline"),
    path("teach/sessions/<int:pk>/lesson", views.SessionLessonPage.as_view(), name="teach-session-lesson"),
    path("teach/lessons/", views.LessonListPage.as_view(), name="teach-lessons"),
    path("teach/lessons/<int:pk>/", views.LessonPage.as_view(), name="teach-lesson"),
    path("teach/lessons/library/<int:pk>/", views.LibraryLessonPage.as_view(), name="teach-library-lesson"),
    path("teach/courseware/", cwv.CoursewareListPage.as_view(), name="teach-courseware"),
    path("teach/courseware/<int:pk>/", cwv.CoursewarePage.as_view(), name="teach-courseware-detail"),
    path("teach/courseware/<int:pk>/present", cwv.PresentStartPage.as_view(), name="teach-present-start"),
    path("teach/present/<int:pk>/", cwv.PresenterPage.as_view(), name="teach-present"),
    path("teach/present/<int:pk>/remote", cwv.RemotePage.as_view(), name="teach-remote"),
]
