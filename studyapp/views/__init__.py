"""The pages: thin interfaces that parse the request, call one service or selector and render.

`home` (the front page), `annotator` (consent, instructions, queue, item
pages, participant links), `researcher` (dashboard, judge runs) and
`reports` (concordance reports and the ratings export). The JSON API lives
in `studyapp.api`. URL names (`studyapp/urls.py`) are the view names.
"""
