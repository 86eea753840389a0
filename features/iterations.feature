# language: fr
Fonctionnalité: Dépôt initial et dépôts complémentaires d'un dossier
  Le premier dépôt d'un dossier porte l'itération 1 ; chaque dépôt complémentaire du même dossier porte
  l'itération suivante. Chaque dépôt a son identifiant et son retour, qui rappelle son itération.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP

  Scénario: Un dépôt complémentaire suit le dépôt initial du même dossier
    Étant donné un dossier "RECETTE-ITERATIONS" à l'itération 1
    Quand l'ASP dépose la pièce "demande.pdf"
    Et l'ASP dépose pour le même dossier la pièce complémentaire "justificatif.pdf" à l'itération 2
    Alors chaque dépôt reçoit son propre identifiant
    Et l'ASP reçoit exactement un retour pour chaque dépôt
    Et chaque retour porte le même dossier et le numéro d'itération de son dépôt
