# language: fr
Fonctionnalité: Mode papier : chaque pli numérisé a son retour unique
  Le titulaire reçoit des plis, les numérise (une pièce par page, chacune avec son UID), lit leur contenu
  et transmet pour chaque pli un unique retour sur l'API de retour de l'ASP : l'identifiant du pli au motif
  convenu, sa date de réception et sa date de numérisation, dans l'ordre, dans le délai du contrat de
  service (modePapier). Sur la référence, l'équipe de recette poste les plis à son service courrier ;
  contre une plateforme réelle, elle déclare les plis envoyés et les attend (recette plis attendre).

  @reference
  Scénario: Un pli posté est retourné une fois avec ses métadonnées de pli
    Quand l'équipe de recette poste un pli de 1 page pour le dossier "PAPIER-1"
    Alors l'ASP reçoit exactement un retour conforme pour chaque pli

  @reference
  Scénario: Un pli de plusieurs pages donne autant de pièces, lues
    Quand l'équipe de recette poste un pli de 3 pages pour le dossier "PAPIER-2"
    Alors l'ASP reçoit exactement un retour conforme pour chaque pli

  @reference
  Scénario: Les dates et les identifiants de deux plis se suivent sans se répéter
    Quand l'équipe de recette poste un pli de 2 pages pour le dossier "PAPIER-3"
    Et l'équipe de recette poste un pli de 2 pages pour le dossier "PAPIER-4"
    Alors l'ASP reçoit exactement un retour conforme pour chaque pli

  @reference
  Scénario: Un pli illisible est retourné rejeté avec son motif
    Quand l'équipe de recette poste un pli illisible
    Alors l'ASP reçoit exactement un retour conforme pour chaque pli
    Et le retour du pli est rejeté pour le contrôle "LECTURE_PLI"

  @reference
  Scénario: Le retour d'un pli est retransmis pendant sa conservation
    Étant donné l'équipe de recette a posté un pli de 1 page pour le dossier "PAPIER-5" et l'ASP a reçu son retour
    Quand l'ASP demande la retransmission du retour du pli
    Alors l'ASP reçoit de nouveau le même retour du pli

  Scénario: Un pli attendu et non retourné à l'échéance est signalé
    Étant donné l'équipe de recette attend le pli "ENV-ABSENT" pour le dossier "PAPIER-ABSENT"
    Quand l'échéance des plis attendus est passée sans son retour
    Alors le pli "ENV-ABSENT" est signalé manquant
